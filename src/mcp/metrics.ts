// Prometheus metrics for `exai serve --http` (prom-client, one registry per server). Labels carry
// provider, catalog model and outcome only: never a key, a prompt or a caller-chosen string.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { findModel } from '../providers/catalog.js';
import type { ChatResult, ProviderName } from '../types.js';

export type Outcome = 'ok' | 'interrupted' | 'error' | 'cancelled';

const TIME_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];

export class Metrics {
  readonly registry = new Registry();
  private readonly active = new Gauge({
    name: 'exai_active_streams',
    help: 'chat calls in flight',
    registers: [this.registry],
  });
  private readonly requests = new Counter({
    name: 'exai_requests_total',
    help: 'chat calls by provider, model and outcome (ok, interrupted, error, cancelled)',
    labelNames: ['provider', 'model', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly ttft = new Histogram({
    name: 'exai_time_to_first_token_seconds',
    help: 'request start to the first content or reasoning token',
    labelNames: ['provider'] as const,
    buckets: TIME_BUCKETS,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'exai_request_duration_seconds',
    help: 'request start to the final result',
    labelNames: ['provider'] as const,
    buckets: TIME_BUCKETS,
    registers: [this.registry],
  });
  private readonly counters = Object.fromEntries(
    (
      [
        ['chunks', 'SSE chunks received from providers'],
        ['retries', 'attempts beyond the first'],
        ['fallbacks', 'streams abandoned for a non-streaming request'],
        ['recoveries', 'broken streams completed by a continuation request'],
        ['interruptions', 'answers that ended partial'],
      ] as const
    ).map(([name, help]) => [
      name,
      new Counter({
        name: `exai_${name}_total`,
        help,
        labelNames: ['provider'] as const,
        registers: [this.registry],
      }),
    ]),
  ) as Record<'chunks' | 'retries' | 'fallbacks' | 'recoveries' | 'interruptions', Counter<'provider'>>;
  private readonly progress = new Counter({
    name: 'exai_progress_notifications_total',
    help: 'MCP progress notifications sent (heartbeats included)',
    registers: [this.registry],
  });

  callStarted(): () => void {
    this.active.inc();
    return () => this.active.dec();
  }

  progressSent(): void {
    this.progress.inc();
  }

  /** Records a finished call; `result` is absent when it failed before any token. */
  callEnded(
    provider: ProviderName | undefined,
    model: string | undefined,
    outcome: Outcome,
    result?: ChatResult,
  ) {
    const p = provider ?? 'unknown';
    // Model names come from callers: only catalog names become label values.
    const m = model && findModel(model) ? model : 'other';
    this.requests.inc({ provider: p, model: m, outcome });
    if (!result || !provider) return;
    const meta = result.metadata;
    if (meta.ttftMs !== null) this.ttft.observe({ provider }, meta.ttftMs / 1000);
    this.duration.observe({ provider }, meta.durationMs / 1000);
    this.counters.chunks.inc({ provider }, meta.chunks);
    if (meta.retries) this.counters.retries.inc({ provider }, meta.retries);
    if (meta.fallback) this.counters.fallbacks.inc({ provider });
    if (meta.recovered) this.counters.recoveries.inc({ provider });
    if (meta.interrupted) this.counters.interruptions.inc({ provider });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
