/**
 * The cluster bench's table and JSON line: per phase the embedded figure, then
 * per data tier the figures through one and through three gateways and their
 * ratios to the embedded one (measured in the same run). Pure, unit-tested.
 */
import type { ClusterBenchResult } from './clusterMode.js';
import { cpuUnitOf, fmt, formatTable, ratio } from './stats.js';

export function clusterTable(r: Pick<ClusterBenchResult, 'rows' | 'tiers'>): string {
  const prefix = (t: string) => (r.tiers.length > 1 ? `${t}: ` : '');
  const header = [
    'phase',
    'embedded',
    ...r.tiers.flatMap((t) => [`${prefix(t)}1 gateway`, `${prefix(t)}3 gateways`, '1 gw / emb', '3 gw / emb']),
  ];
  const rows = r.rows.map((row) => [
    `${row.name} (${row.unit})`,
    fmt(row.embedded),
    ...r.tiers.flatMap((t) => {
      const c = row.tiers[t];
      return [
        fmt(c?.oneGateway),
        fmt(c?.threeGateways),
        fmt(ratio(c?.oneGateway, row.embedded)),
        fmt(ratio(c?.threeGateways, row.embedded)),
      ];
    }),
  ]);
  const retries = r.rows
    .filter((row) => Object.keys(row.retried503).length > 0)
    .map(
      (row) =>
        `  ${row.name}: ${Object.entries(row.retried503)
          .map(([who, n]) => `${who} ${n}`)
          .join(', ')}`,
    );
  return [
    formatTable(header, rows),
    ...(retries.length > 0 ? ['503 answers retried (the figures include them):', ...retries] : []),
    ...cpuTable(r),
  ].join('\n');
}

/** CPU of all the configuration's processes per unit of work (lower is better), when /proc was there. */
function cpuTable(r: Pick<ClusterBenchResult, 'rows' | 'tiers'>): string[] {
  const measured = r.rows.filter((row) => Object.keys(row.cpu).length > 0);
  if (measured.length === 0) return [];
  const prefix = (t: string) => (r.tiers.length > 1 ? `${t}: ` : '');
  const header = [
    'server CPU, all processes',
    'embedded',
    ...r.tiers.flatMap((t) => [`${prefix(t)}1 gateway`, `${prefix(t)}3 gateways`, '1 gw / emb', '3 gw / emb']),
  ];
  const rows = measured.map((row) => {
    const emb = row.cpu.embedded;
    return [
      `${row.name} (${cpuUnitOf(row.unit).label})`,
      fmt(emb),
      ...r.tiers.flatMap((t) => {
        const one = row.cpu[`1 gateway (${t})`];
        const three = row.cpu[`3 gateways (${t})`];
        return [fmt(one), fmt(three), fmt(ratio(one, emb)), fmt(ratio(three, emb))];
      }),
    ];
  });
  return ['', formatTable(header, rows)];
}

/** The final JSON line's object: every figure and its ratios to embedded, with the machine facts. */
export function clusterJson(r: ClusterBenchResult, quick: boolean): Record<string, unknown> {
  return {
    bench: 'coffer-cluster',
    runs: r.runs,
    quick,
    machine: r.machine,
    tiers: r.tiers,
    gateways: 3,
    phases: r.rows.map((row) => ({
      id: row.id,
      name: row.name,
      unit: row.unit,
      embedded: row.embedded,
      ...Object.fromEntries(
        r.tiers.map((t) => {
          const c = row.tiers[t];
          return [
            t,
            {
              oneGateway: c?.oneGateway ?? null,
              threeGateways: c?.threeGateways ?? null,
              oneGatewayRatio: ratio(c?.oneGateway, row.embedded) ?? null,
              threeGatewaysRatio: ratio(c?.threeGateways, row.embedded) ?? null,
            },
          ];
        }),
      ),
      retried503: row.retried503,
      cpuMsPerUnit: row.cpu,
    })),
    requestsPerGateway: r.spread,
  };
}
