import { describe, expect, it } from 'vitest';
import { KmsMetrics, teeAudit } from '../../../src/kms/metrics.js';
import type { AuditInput } from '../../../src/kms/audit.js';

const op = (instance: string, action: string, extra: Partial<AuditInput> = {}): AuditInput => ({
  identity: 'iam:x',
  instance,
  action,
  outcome: 'success',
  via: 'api',
  ...extra,
});

describe('KmsMetrics', () => {
  it('counts only instances whose policy is on, and drops an instance once it goes off', async () => {
    const on = new Set(['a']);
    const m = new KmsMetrics((id) => on.has(id));
    m.record(op('a', 'wrap'));
    m.record(op('a', 'wrap'));
    m.record(op('a', 'unwrap', { outcome: 'failure', reason: 'KEY_DELETED_ERR', status: 410 }));
    m.record(op('b', 'wrap'));
    m.record({ identity: 'unauthenticated', action: 'getKey', outcome: 'failure', via: 'api' });
    const first = await m.render();
    let body = first.body;
    expect(first.contentType).toMatch(/^text\/plain/);
    expect(body).toContain(
      'coffer_kms_key_operations_total{instance="a",action="wrap",outcome="success",reason="",via="api"} 2',
    );
    expect(body).toContain('action="unwrap",outcome="failure",reason="KEY_DELETED_ERR",via="api"} 1');
    expect(body).not.toContain('instance="b"');
    on.delete('a');
    ({ body } = await m.render());
    expect(body).not.toContain('instance="a"');
    on.add('a');
    m.record(op('a', 'wrap'));
    ({ body } = await m.render());
    expect(body).toContain('action="wrap",outcome="success",reason="",via="api"} 1');
  });

  it('teeAudit hands every entry to each sink and resolves only when every sink has it', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const sink = teeAudit(
      { record: async (e) => void seen.push(`1:${e.action}`) },
      { record: async (e) => (await held, void seen.push(`2:${e.action}`)) },
    );
    let done = false;
    const p = sink.record(op('a', 'wrap')).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    release();
    await p;
    expect(seen).toEqual(['1:wrap', '2:wrap']);
  });
});
