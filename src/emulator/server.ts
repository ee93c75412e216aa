// The emulator's HTTP shell: routes, auth, body limits, the request log, socket accounting and
// shutdown. What to answer lives in answer.ts/wire.ts; how to write it in respond.ts.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isObject } from '../json.js';
import type { ProviderName } from '../types.js';
import type { AnswerRequest } from './answer.js';
import {
  checkOptions,
  DEFAULT_OPTIONS,
  type Emulator,
  type EmulatorEvents,
  type EmulatorOptions,
  pickOptions,
  type RequestRecord,
  type ResolvedOptions,
} from './api.js';
import { type ErrorReason, requestError, unknownModel } from './errors.js';
import { FaultScript, type FaultSpec, faultApplies } from './faults.js';
import { respond } from './respond.js';
import { sendJson } from './response-job.js';
import { planWithSwitches } from './switches.js';
import { knownModel, modelList, responseMeta } from './wire.js';

const BODY_LIMIT = 8 * 1024 * 1024;
// The paths mirror the real hosts' (GLM's Coding Plan has its own), under one prefix per provider.
const BASES: ReadonlyArray<[ProviderName, string]> = [
  ['glm', '/glm/api/paas/v4'],
  ['glm', '/glm/api/coding/paas/v4'],
  ['kimi', '/kimi/v1'],
];

function route(path: string): { provider: ProviderName | null; endpoint: string } {
  for (const [provider, base] of BASES) {
    if (path === base || path.startsWith(`${base}/`)) return { provider, endpoint: path.slice(base.length) };
  }
  return { provider: null, endpoint: path };
}

/** The body, 'too-large' (read to the end but not kept), or null when the client went away. */
function readBody(req: IncomingMessage): Promise<Buffer | 'too-large' | null> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size <= BODY_LIMIT) parts.push(b);
    });
    req.on('end', () => resolve(size > BODY_LIMIT ? 'too-large' : Buffer.concat(parts)));
    req.on('error', () => resolve(null));
    req.on('close', () => resolve(null));
  });
}

const hasBearer = (header: string | undefined) => header !== undefined && /^Bearer\s+\S/i.test(header);

class EmulatorServer extends EventEmitter<EmulatorEvents> implements Emulator {
  readonly url: string;
  readonly port: number;
  private options: ResolvedOptions;
  private readonly faults = new FaultScript();
  private log: RequestRecord[] = [];
  private seq = 0;
  private readonly sockets = new Set<Socket>();
  private readonly socketIds = new WeakMap<Socket, number>();
  private socketCount = 0;
  private inFlight = 0;
  private readonly responses = new Set<AbortController>();
  private readonly idleWaiters = new Set<() => void>();
  private closing = false;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly server: Server,
    host: string,
    options: ResolvedOptions,
  ) {
    super();
    this.options = options;
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
    server.on('connection', (socket) => {
      this.socketIds.set(socket, ++this.socketCount);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      this.handle(req, res).catch(() => {
        // The server must survive anything a request does; answer 500 if we still can.
        if (!res.headersSent)
          sendJson(res, 500, { error: { message: 'emulator error', type: 'server_error' } });
        else res.destroy();
      });
    });
  }

  baseURL(provider: ProviderName, endpoint?: 'coding'): string {
    const base = BASES.find(([p, b]) => p === provider && (endpoint === 'coding') === b.includes('/coding/'));
    return this.url + (base?.[1] ?? '');
  }

  script(faults: ReadonlyArray<FaultSpec | null>): void {
    this.faults.push(faults);
  }

  setDefaultFault(spec: FaultSpec | null): void {
    this.faults.setDefault(spec);
  }

  reset(): void {
    this.faults.clear();
    this.log = [];
    this.seq = 0;
  }

  get requests(): readonly RequestRecord[] {
    return this.log;
  }

  openSockets(): number {
    return this.sockets.size;
  }

  totalSockets(): number {
    return this.socketCount;
  }

  setOptions(partial: EmulatorOptions): void {
    checkOptions(partial);
    this.options = { ...this.options, ...pickOptions(partial) };
  }

  waitForIdle(timeoutMs = 5000): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.idleWaiters.delete(done);
        reject(new Error(`emulator: ${this.inFlight} response(s) still in flight after ${timeoutMs} ms`));
      }, timeoutMs);
      this.idleWaiters.add(done);
    });
  }

  close(): Promise<void> {
    if (this.closed) return this.closed;
    // Set first: the sockets destroyed below must not be reported as clients going away.
    this.closing = true;
    this.closed = new Promise((resolve) => this.server.close(() => resolve()));
    for (const c of this.responses) c.abort();
    for (const s of this.sockets) s.destroy();
    for (const done of [...this.idleWaiters]) done();
    return this.closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let path = '/';
    try {
      path = new URL(req.url ?? '/', 'http://emulator').pathname.replace(/\/+$/, '') || '/';
    } catch {
      // An unparseable target is answered 404 below.
    }
    const { provider, endpoint } = route(path);
    const record: RequestRecord = {
      seq: ++this.seq,
      provider,
      method: req.method ?? 'GET',
      path,
      model: '',
      stream: false,
      body: null,
      continuation: false,
      fault: null,
      hasAuth: hasBearer(req.headers.authorization),
      socketId: this.socketIds.get(req.socket) ?? 0,
      startedAt: performance.now(),
    };
    this.log.push(record);
    // A long-running emulator (a benchmark, `exai emulator`) must not keep every request it saw.
    if (this.log.length > this.options.maxRecords)
      this.log.splice(0, this.log.length - this.options.maxRecords);
    const controller = this.track(res, record);
    const headers = { 'x-request-id': `emu-${record.seq}` };
    const fail = (status: number, body: unknown) => {
      record.status = status;
      record.outcome = 'completed';
      this.emit('request', record);
      sendJson(res, status, body, headers);
    };

    const raw = await readBody(req);
    if (raw === null || controller.signal.aborted) return;
    const isChat = endpoint === '/chat/completions' && record.method === 'POST';
    const isModels = endpoint === '/models' && record.method === 'GET';
    if (!provider || !(isChat || isModels)) {
      return fail(404, provider ? requestError(provider, 'not-found') : { error: { message: 'Not found' } });
    }
    if (!record.hasAuth) return fail(401, requestError(provider, 'auth'));
    if (isModels) {
      const listing = this.options.modelListing?.[provider];
      if (listing === null) return fail(404, requestError(provider, 'not-found'));
      return fail(200, modelList(provider, listing));
    }
    const reject = (reason: ErrorReason, detail: string) => fail(400, requestError(provider, reason, detail));
    if (raw === 'too-large') return fail(413, requestError(provider, 'too-large'));

    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      return reject('invalid-json', 'the body is not valid JSON');
    }
    if (!isObject(parsed)) return reject('invalid-json', 'the body must be a JSON object');
    record.body = parsed;
    record.model = typeof parsed.model === 'string' ? parsed.model : '';
    record.stream = parsed.stream === true;
    const messages = parsed.messages;
    if (
      !Array.isArray(messages) ||
      messages.length === 0 ||
      !messages.every((m) => isObject(m) && typeof m.role === 'string')
    ) {
      return reject('messages', 'messages must be a non-empty array of {role, content}');
    }
    if (!knownModel(provider, record.model)) {
      const { status, body } = unknownModel(provider, record.model);
      return fail(status, body);
    }

    const spec = this.faults.next();
    const fault = spec && faultApplies(spec, record.stream) ? spec : null;
    const options = { ...this.options, ...pickOptions(spec ?? {}) };
    const plan = planWithSwitches(provider, parsed as AnswerRequest, options.words, options);
    record.continuation = plan.continuation;
    record.fault = fault;
    this.emit('request', record);
    const outcome = await respond({
      res,
      meta: responseMeta(provider, record.model),
      plan,
      stream: record.stream,
      fault,
      options,
      signal: controller.signal,
      headers,
      onFaultClose: () => {
        record.outcome = 'fault';
      },
    });
    record.status ??= res.headersSent ? res.statusCode : undefined;
    if (outcome !== 'aborted') record.outcome ??= outcome;
  }

  /** Counts the response in flight and notices when the client leaves before it is complete. */
  private track(res: ServerResponse, record: RequestRecord): AbortController {
    const controller = new AbortController();
    this.responses.add(controller);
    this.inFlight++;
    // Writes racing a closed socket emit errors we have nothing to do about.
    res.on('error', () => {});
    res.on('close', () => {
      const now = performance.now();
      record.endedAt = now;
      if (res.headersSent) record.status ??= res.statusCode;
      if (!res.writableFinished && record.outcome === undefined && !this.closing) {
        record.outcome = 'client-closed';
        record.clientClosedAt = now;
        this.emit('client-closed', record);
      }
      controller.abort();
      this.responses.delete(controller);
      this.inFlight--;
      if (this.inFlight === 0) for (const done of [...this.idleWaiters]) done();
    });
    return controller;
  }
}

/** Starts an emulator on `host:port` (default 127.0.0.1, a free port). */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  checkOptions(opts);
  const host = opts.host ?? '127.0.0.1';
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new EmulatorServer(server, host, { ...DEFAULT_OPTIONS, ...pickOptions(opts) });
}
