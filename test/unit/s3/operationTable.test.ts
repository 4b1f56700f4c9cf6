/**
 * The README's table of S3 operations is the user's promise: it must name every
 * operation of the S3 API (as @aws-sdk/client-s3 names its commands, plus POST
 * Object), and say `yes` or `partial` exactly for those the router produces.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as s3 from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { routedOperationNames } from '../../../src/s3/router.js';

function readmeTable(): Map<string, string> {
  const text = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const start = text.indexOf('<!-- s3-operations:start -->');
  const end = text.indexOf('<!-- s3-operations:end -->');
  expect(start).toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  const rows = new Map<string, string>();
  for (const line of text.slice(start, end).split('\n')) {
    const m = /^\| (\w+) \| (yes|partial|no) \|/.exec(line);
    if (m) {
      expect(rows.has(m[1]!), `${m[1]} listed twice`).toBe(false);
      rows.set(m[1]!, m[2]!);
    }
  }
  return rows;
}

const sdkOperations = Object.keys(s3)
  .filter((k) => k.endsWith('Command') && k !== 'Command' && k !== '$Command')
  .map((k) => k.slice(0, -'Command'.length));

describe('README table of S3 operations', () => {
  const table = readmeTable();
  const routed = new Set(routedOperationNames());

  it('lists every S3 API operation and POST Object', () => {
    expect(sdkOperations.length).toBeGreaterThan(90);
    const missing = [...sdkOperations, 'PostObject'].filter((op) => !table.has(op));
    expect(missing).toEqual([]);
  });

  it('says yes or partial exactly for the operations the router serves', () => {
    const claimed = [...table].filter(([, v]) => v !== 'no').map(([k]) => k);
    expect(claimed.filter((op) => !routed.has(op))).toEqual([]);
    expect([...routed].filter((op) => table.get(op) === 'no' || !table.has(op))).toEqual([]);
  });
});
