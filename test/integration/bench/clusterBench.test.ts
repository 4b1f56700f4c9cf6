/**
 * The cluster bench's plumbing with tiny sizes: a throwaway PostgreSQL, both
 * data tiers, a KMS and three gateways each, and the embedded server all start;
 * every phase yields a figure for every column (each GET verified against what
 * was written, through whichever gateway); the round-robin client reached all
 * three gateways; and everything is stopped at the end, cleanly. Correctness
 * only, not timed.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { CLUSTER_PHASES, runClusterBench, type ClusterBenchResult } from '../../../scripts/bench/clusterMode.js';
import { clusterJson, clusterTable } from '../../../scripts/bench/clusterReport.js';
import { MiB } from '../../../scripts/bench/content.js';
import type { LeanS3Client } from '../../../scripts/bench/leanClient.js';
import type { RunningServer } from '../../../scripts/bench/servers.js';

describe('npm run bench -- --cluster (tiny sizes)', () => {
  it('measures embedded, 1 gateway and 3 gateways on both tiers, then stops everything', async () => {
    const servers: RunningServer[] = [];
    const clients: LeanS3Client[] = [];
    let r: ClusterBenchResult;
    try {
      r = await runClusterBench({
        runs: 1,
        sizes: { ranges: 0, smallOps: 6, listings: 0, bigBytes: 2 * MiB + 5 },
        tiers: ['s3rver', 'coffer'],
        servers,
        clients,
      });
    } finally {
      // Whatever happened, nothing may outlive the test.
      for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    }

    expect(r.rows.map((row) => row.id)).toEqual([...CLUSTER_PHASES]);
    for (const row of r.rows) {
      const figures = [
        row.embedded,
        ...r.tiers.flatMap((t) => [row.tiers[t]!.oneGateway, row.tiers[t]!.threeGateways]),
      ];
      expect(figures).toHaveLength(5);
      for (const f of figures) expect(f).toBeGreaterThan(0);
      // CPU of every configuration's processes was sampled (in 10 ms ticks: a tiny phase may read 0).
      expect(Object.keys(row.cpu).sort()).toEqual(
        ['embedded', ...r.tiers.flatMap((t) => [`1 gateway (${t})`, `3 gateways (${t})`])].sort(),
      );
      for (const v of Object.values(row.cpu)) expect(v).toBeGreaterThanOrEqual(0);
    }
    // Round robin: every gateway of each tier took a third of the 3-gateway subject's requests.
    for (const t of r.tiers) {
      const sent = r.spread[t]!;
      expect(sent).toHaveLength(3);
      expect(Math.max(...sent) - Math.min(...sent)).toBeLessThanOrEqual(1);
      expect(Math.min(...sent)).toBeGreaterThan(0);
    }
    // Stopped: each tier's 3 gateways and KMS exited 0 on SIGTERM, every process is gone, PostgreSQL too.
    expect(r.exitCodes).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // Embedded, 2 tiers, 2 KMS, 6 gateways.
    expect(servers).toHaveLength(11);
    for (const s of servers) expect(s.child.exitCode !== null || s.child.signalCode !== null).toBe(true);
    const c = new pg.Client({ connectionString: r.postgresUrl, connectionTimeoutMillis: 5000 });
    await expect(c.connect()).rejects.toThrow();

    // The figures (any 503 retries listed under them), then the CPU table.
    const [figures, cpu] = clusterTable(r).split('\n\n');
    const table = figures!.split('\n').filter((l) => !/^(503| {2})/.test(l));
    expect(table).toHaveLength(2 + CLUSTER_PHASES.length);
    expect(cpu!.split('\n')).toHaveLength(2 + CLUSTER_PHASES.length);
    expect(cpu).toMatch(/^server CPU, all processes\s+embedded/);
    expect(table[0]).toMatch(/^phase\s+embedded\s+s3rver: 1 gateway\s+s3rver: 3 gateways/);
    const json = clusterJson(r, false) as { phases: Array<Record<string, unknown>> };
    const put = r.rows[0]!;
    expect(json.phases[0]!.s3rver).toEqual({
      oneGateway: put.tiers.s3rver!.oneGateway,
      threeGateways: put.tiers.s3rver!.threeGateways,
      oneGatewayRatio: put.tiers.s3rver!.oneGateway / put.embedded,
      threeGatewaysRatio: put.tiers.s3rver!.threeGateways / put.embedded,
    });
  }, 240_000);
});
