/**
 * IamStore durability: every LevelDB write a first start makes (key check
 * value, root account, API keys and the meta entries that remember them) is
 * synced, so a power cut after the start cannot roll IAM back to a state in
 * which the printed API key no longer exists.
 */
import { describe, expect, it } from 'vitest';
import { recordLevelWrites } from '../../helpers/levelWrites.js';
import { openTestIam } from './iamTestKit.js';

describe('IamStore', () => {
  it('syncs every write of a first start, meta entries included', async () => {
    const rec = recordLevelWrites();
    let t;
    try {
      t = await openTestIam({ configuredRootApiKey: 'iam-store-sync-apikey-0123456789' });
    } finally {
      rec.restore();
    }
    await t.close();
    expect(rec.writes.length).toBeGreaterThan(2);
    expect(rec.unsynced().map((w) => `${w.op} from\n${w.stack}`)).toEqual([]);
  });
});
