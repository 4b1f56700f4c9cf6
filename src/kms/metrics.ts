/**
 * Prometheus metrics of the KMS (prom-client), served on /metrics of the KMS
 * listener: `coffer_kms_key_operations_total`, one counter per instance,
 * action (the audit log's action names: wrap, unwrap, createKey, ...),
 * outcome, Key Protect reason code of a failure and path (api: the REST API,
 * embedded: the in-process gateway). Only instances whose `metrics` instance
 * policy is on are counted; turning it off drops the instance's series at the
 * next scrape.
 *
 * It is fed as an audit sink (every key operation is audited, from both
 * paths), so counting cannot miss an operation the audit log has, and it sees
 * only the audit entry's named fields: no key material can reach a label.
 */
import { Counter, Registry } from 'prom-client';
import type { AuditInput, AuditSink } from './audit.js';

type Label = 'instance' | 'action' | 'outcome' | 'reason' | 'via';

export class KmsMetrics implements AuditSink {
  readonly registry = new Registry();
  private readonly operations: Counter<Label>;
  /** Label sets counted so far, by instance: what to remove when an instance's policy goes off. */
  private readonly series = new Map<string, Map<string, Record<Label, string>>>();

  /** `enabled`: the metrics instance policy (InstancePolicies.metricsEnabled), asked per operation and per scrape. */
  constructor(private readonly enabled: (instanceId: string) => boolean) {
    this.operations = new Counter({
      name: 'coffer_kms_key_operations_total',
      help: 'Key operations on a KMS instance whose metrics policy is enabled, by action and outcome.',
      labelNames: ['instance', 'action', 'outcome', 'reason', 'via'],
      registers: [this.registry],
    });
  }

  /** Counting is synchronous; the Promise is the AuditSink shape (nothing to wait for). */
  record(e: AuditInput): Promise<void> {
    if (e.instance === undefined || !this.enabled(e.instance)) return Promise.resolve();
    const labels: Record<Label, string> = {
      instance: e.instance,
      action: e.action,
      outcome: e.outcome,
      reason: e.reason ?? '',
      via: e.via,
    };
    this.operations.inc(labels);
    let mine = this.series.get(e.instance);
    if (!mine) this.series.set(e.instance, (mine = new Map()));
    mine.set(`${labels.action}\u0000${labels.outcome}\u0000${labels.reason}\u0000${labels.via}`, labels);
    return Promise.resolve();
  }

  /** The exposition text, without the series of instances whose policy is now off. */
  async render(): Promise<{ contentType: string; body: string }> {
    for (const [instance, sets] of this.series) {
      if (this.enabled(instance)) continue;
      for (const labels of sets.values()) this.operations.remove(labels);
      this.series.delete(instance);
    }
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** Sends each audit entry to every sink (the audit log first); resolves when all have it (the log: once it is synced). */
export function teeAudit(...sinks: AuditSink[]): AuditSink {
  return {
    async record(e) {
      await Promise.all(sinks.map((s) => s.record(e)));
    },
  };
}
