import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyStore, MasterKeyMismatchError } from '../../../src/kms/keyStore.js';
import { KmsService } from '../../../src/kms/kmsService.js';
import { recordLevelWrites } from '../../helpers/levelWrites.js';
import { ManualClock, tempDir } from './kmsTestKit.js';

async function dirBytes(dir: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const f of await readdir(dir, { withFileTypes: true })) {
    if (f.isFile()) out.push(await readFile(join(dir, f.name)));
  }
  return out;
}

/** Every encoding in which material could leak into a file. */
function needles(secret: Buffer): Buffer[] {
  return [
    secret,
    Buffer.from(secret.toString('base64')),
    Buffer.from(secret.toString('hex')),
    Buffer.from(secret.toString('base64url')),
  ];
}

describe('KeyStore', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => cleanup());

  it('detects a wrong master key at open, with a clear message', async () => {
    const master = randomBytes(32);
    const s = await KeyStore.open(dir, master);
    await new KmsService({ store: s }).createInstance({ account: 'a', region: 'r' });
    await s.close();
    await expect(KeyStore.open(dir, randomBytes(32))).rejects.toThrow(MasterKeyMismatchError);
    await expect(KeyStore.open(dir, randomBytes(32))).rejects.toThrow(/does not match the key store/);
    const again = await KeyStore.open(dir, master);
    expect((await again.listInstances()).length).toBe(1);
    await again.close();
  });

  it('never writes key material or generated DEKs in clear', async () => {
    const generated: Buffer[] = [];
    const random = (n: number) => {
      const b = randomBytes(n);
      if (n >= 16) generated.push(Buffer.from(b));
      return b;
    };
    const importedRoot = randomBytes(32);
    const importedStandard = randomBytes(64);
    const store = await KeyStore.open(dir, randomBytes(32), { randomBytes: random });
    const svc = new KmsService({ store, randomBytes: random, now: new ManualClock().now });
    const inst = await svc.createInstance({ account: 'a', region: 'r' });
    const root = await svc.createKey(inst.id, { name: 'generated-root' });
    const imported = await svc.createKey(inst.id, { name: 'imported-root', payload: importedRoot });
    const std = await svc.createKey(inst.id, { name: 'std', extractable: true, payload: importedStandard });
    const std2 = await svc.createKey(inst.id, { name: 'std-generated', extractable: true });
    await svc.rotate(inst.id, root.id);
    const given = randomBytes(32);
    await svc.wrap(inst.id, root.id, { plaintext: given, aad: ['x'] });
    await svc.wrap(inst.id, imported.id, {});
    expect((await svc.getKey(inst.id, std.id)).payload).toBe(importedStandard.toString('base64'));
    const std2Payload = Buffer.from((await svc.getKey(inst.id, std2.id)).payload ?? '', 'base64');
    expect(std2Payload).toHaveLength(32);
    await svc.close();

    const files = await dirBytes(dir);
    expect(files.length).toBeGreaterThan(0);
    const secrets = [importedRoot, importedStandard, given, std2Payload, ...generated.filter((g) => g.length === 32)];
    expect(secrets.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      for (const n of needles(secret)) {
        for (const f of files) expect(f.includes(n)).toBe(false);
      }
    }
  });

  it('binds sealed material to its key: a version copied onto another key fails as corrupted (500)', async () => {
    const store = await KeyStore.open(dir, randomBytes(32));
    const svc = new KmsService({ store });
    const inst = await svc.createInstance({ account: 'a', region: 'r' });
    const a = await svc.createKey(inst.id, { name: 'aaa' });
    const b = await svc.createKey(inst.id, { name: 'bbb' });
    const sealedA = await store.records.get<object>('ver', `${inst.id}!${a.id}!${a.id}`);
    expect(sealedA).toBeDefined();
    await store.records.write([
      { type: 'put', space: 'ver', key: `${inst.id}!${b.id}!${b.id}`, value: { ...sealedA!, id: b.id } },
    ]);
    await expect(store.openMaterial(inst.id, b.id, b.id)).rejects.toMatchObject({
      status: 500,
      reason: 'INTERNAL_ERR',
    });
    await expect(svc.wrap(inst.id, b.id, {})).rejects.toMatchObject({ status: 500 });
    const m = await store.openMaterial(inst.id, a.id, a.id);
    expect(m).toHaveLength(32);
    await svc.close();
  });

  it('purge removes every record of the key: versions, aliases, registrations', async () => {
    const clock = new ManualClock();
    const store = await KeyStore.open(dir, randomBytes(32));
    const svc = new KmsService({ store, now: clock.now });
    const inst = await svc.createInstance({ account: 'a', region: 'r' });
    const key = await svc.createKey(inst.id, { name: 'doomed', aliases: ['doomed-alias'] });
    await svc.createRegistration(inst.id, key.id, 'crn:v1:coffer:local:cloud-object-storage:global:a/a:i:bucket:b');
    await svc.deleteKey(inst.id, key.id, { force: true });
    clock.advance(4 * 3600_000);
    await svc.purge(inst.id, key.id);
    expect(await store.getKey(inst.id, key.id)).toBeUndefined();
    expect(await store.keyIdForAlias(inst.id, 'doomed-alias')).toBeUndefined();
    expect(await store.listRegistrations(inst.id)).toEqual([]);
    expect(await store.records.keys('ver')).toEqual([]);
    await expect(svc.getKeyMetadata(inst.id, key.id)).rejects.toMatchObject({ status: 404 });
    await svc.close();
  });

  it('refuses a master key of the wrong length', async () => {
    await expect(KeyStore.open(dir, randomBytes(16))).rejects.toThrow(RangeError);
  });

  it('syncs every write: the key check value at open and the meta entries as well as key batches', async () => {
    const rec = recordLevelWrites();
    try {
      const s = await KeyStore.open(dir, randomBytes(32));
      await s.putMeta('bootstrap', { instanceId: 'i', keyId: 'k' });
      await new KmsService({ store: s }).createInstance({ account: 'a', region: 'r' });
      await s.close();
    } finally {
      rec.restore();
    }
    expect(rec.writes.length).toBeGreaterThan(2);
    expect(rec.unsynced().map((w) => `${w.op} from\n${w.stack}`)).toEqual([]);
  });
});
