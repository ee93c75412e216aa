// The shortcut in front of the SDK's response checks: the same answers as the full zod parse for
// any value, the full parse skipped for a message without the field, and still on the SDK's path.
import {
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  specTypeSchemas,
} from '@modelcontextprotocol/server';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { shortcutResponseChecks } from '../src/mcp/sdk-checks.js';

type Parse = (value: unknown) => { success: boolean; error?: { issues?: unknown } };
const schema = (name: 'JSONRPCResultResponse' | 'JSONRPCErrorResponse') =>
  specTypeSchemas[name] as unknown as { safeParse: Parse };
/** The schema's own verdict, by its Standard Schema interface (which the shortcut does not touch). */
const verdict = (name: 'JSONRPCResultResponse' | 'JSONRPCErrorResponse', value: unknown) => {
  const out = specTypeSchemas[name]['~standard'].validate(value);
  if (out instanceof Promise) throw new Error('async schema');
  return out.issues === undefined ? { ok: true } : { ok: false, issues: out.issues };
};

// Counts the full parses run under the shortcut (installed over this counter once, below).
const fullParses = { JSONRPCResultResponse: 0, JSONRPCErrorResponse: 0 };

beforeAll(() => {
  for (const name of ['JSONRPCResultResponse', 'JSONRPCErrorResponse'] as const) {
    const s = schema(name);
    const own = s.safeParse.bind(s);
    s.safeParse = (value) => {
      fullParses[name]++;
      return own(value);
    };
  }
  shortcutResponseChecks();
  // A second install (another server in the process) adds nothing.
  shortcutResponseChecks();
});

const notification: JSONRPCMessage = {
  jsonrpc: '2.0',
  method: 'notifications/progress',
  params: { progressToken: 1, progress: 5, message: 'tail' },
};
const result: JSONRPCMessage = { jsonrpc: '2.0', id: 7, result: { content: [] } };
const failure: JSONRPCMessage = { jsonrpc: '2.0', id: 7, error: { code: -32603, message: 'x' } };

describe('the SDK response checks with the shortcut', () => {
  it('answers a notification without running either full parse', () => {
    const before = { ...fullParses };
    expect(isJSONRPCResultResponse(notification)).toBe(false);
    expect(isJSONRPCErrorResponse(notification)).toBe(false);
    expect(fullParses).toEqual(before);
  });

  it('still runs the full parse through the SDK for responses (the shortcut is on its path)', () => {
    const before = { ...fullParses };
    expect(isJSONRPCResultResponse(result)).toBe(true);
    expect(isJSONRPCErrorResponse(failure)).toBe(true);
    // A result without `error` is no error response, and vice versa: both answered at once.
    expect(isJSONRPCErrorResponse(result)).toBe(false);
    expect(isJSONRPCResultResponse(failure)).toBe(false);
    expect(isJSONRPCErrorResponse({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' } })).toBe(
      true,
    );
    expect(fullParses.JSONRPCResultResponse).toBe(before.JSONRPCResultResponse + 1);
    expect(fullParses.JSONRPCErrorResponse).toBe(before.JSONRPCErrorResponse + 2);
  });

  it("gives a skipped parse's error when it is read: the full parse's issues", () => {
    const out = schema('JSONRPCResultResponse').safeParse(notification);
    expect(out.success).toBe(false);
    const issues = (out.error as { issues: unknown[] }).issues;
    expect(issues).toEqual(verdict('JSONRPCResultResponse', notification).issues);
    expect(issues.length).toBeGreaterThan(0);
  });

  it('agrees with the schemas on valid messages with fields removed or changed, and on any value', () => {
    const bases: Record<string, unknown>[] = [
      result,
      failure,
      // An error response may lack its id (a parse error's answer).
      { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' } },
      notification,
      { jsonrpc: '2.0', id: 'a', method: 'ping' },
    ];
    const keys = ['jsonrpc', 'id', 'result', 'error', 'method', 'params'];
    const value = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.integer(),
      fc.string({ maxLength: 3 }),
      fc.constant({}),
      fc.constant({ code: 1, message: 'm' }),
      fc.constant({ code: 1.5, message: 'm' }),
    );
    const edited = fc
      .tuple(
        fc.constantFrom(...bases),
        fc.subarray(keys, { maxLength: 2 }),
        fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 2 }),
      )
      .map(([base, removed, changed]) => {
        const out: Record<string, unknown> = { ...base, ...changed };
        for (const key of removed) delete out[key];
        return out;
      });
    fc.assert(
      fc.property(
        fc.oneof({ weight: 4, arbitrary: edited }, { weight: 1, arbitrary: fc.anything() }),
        (v) => {
          for (const name of ['JSONRPCResultResponse', 'JSONRPCErrorResponse'] as const) {
            const out = schema(name).safeParse(v);
            const expected = verdict(name, v);
            expect(out.success).toBe(expected.ok);
            if (!expected.ok) expect((out.error as { issues: unknown }).issues).toEqual(expected.issues);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
