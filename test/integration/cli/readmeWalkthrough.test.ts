/**
 * The README's walk-through (the block between `<!-- walkthrough:start -->`
 * and `end`), run line by line in one bash as a reader would paste it: the
 * built `coffer` CLI, Debian's AWS CLI and jq against a real embedded server
 * (the production composition root, its KMS on a manual clock). Only the
 * documented placeholders (<KMS API>, <S3 endpoint>, <root API key>) are
 * replaced, and `sleep N` moves the KMS clock by N seconds instead of waiting.
 *
 * Every line must succeed unless the README marks it `# refused: TEXT`; then
 * it must fail and print TEXT. Besides, what the lines claim is checked on the
 * server: the object reads back while the key is usable, the rotation made a
 * new version, the bucket was registered on the key, and the key ends
 * destroyed.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireProgram } from '../../clients/helpers/programs.js';
import { call, tokenFor } from '../kms/kmsHttp.js';
import { ROOT_APIKEY, startClockedGateway, type ClockedGateway } from '../kms/lifecycleKit.js';
import { assertBuilt, CLI } from './runCli.js';
import { readmeBlock, ShellSession, type BlockLine, type LineResult } from './shellSession.js';

const README = join(process.cwd(), 'README.md');

describe('README walk-through', () => {
  let c: ClockedGateway;
  let work: string;
  let shell: ShellSession;

  beforeAll(async () => {
    assertBuilt();
    c = await startClockedGateway();
    work = await mkdtemp(join(tmpdir(), 'coffer-walkthrough-'));
    const bin = join(work, 'bin');
    await mkdir(bin);
    await mkdir(join(work, 'home'));
    // `coffer` as the package's bin would install it; the AWS CLI and jq by full path.
    await writeFile(join(bin, 'coffer'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
    await chmod(join(bin, 'coffer'), 0o755);
    await symlink(requireProgram('aws', '/usr/bin/aws'), join(bin, 'aws'));
    await symlink(requireProgram('jq', '/usr/bin/jq'), join(bin, 'jq'));
    shell = new ShellSession(work, {
      PATH: `${bin}:/usr/bin:/bin`,
      HOME: join(work, 'home'),
      LANG: 'C.UTF-8',
      AWS_CONFIG_FILE: join(work, 'home', 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'home', 'no-aws-credentials'),
      AWS_PAGER: '',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });

  afterAll(async () => {
    shell?.close();
    await c?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('runs every line in order with the outcome the README gives it', async () => {
    const lines = await readmeBlock(README, 'walkthrough');
    const placeholders: Record<string, string> = {
      '<KMS API>': c.gw.kmsUrl,
      '<S3 endpoint>': c.gw.s3Url,
      '<root API key>': ROOT_APIKEY,
    };
    const results: Array<{ line: BlockLine; r: LineResult }> = [];
    for (const line of lines) {
      let text = line.text;
      for (const [k, v] of Object.entries(placeholders)) text = text.split(k).join(v);
      expect(text, 'an undocumented placeholder').not.toMatch(/<[A-Za-z ]+>/);
      const sleep = /^sleep (\d+)$/.exec(text.trim());
      if (sleep) {
        c.advance(Number(sleep[1]) * 1000);
        continue;
      }
      const r = await shell.run(text);
      const shown = `$ ${line.text}\nexit ${r.code}\n--- stdout\n${r.out}\n--- stderr\n${r.err}`;
      if (line.refused !== undefined) {
        expect(r.code, shown).not.toBe(0);
        expect(r.out + r.err, shown).toContain(line.refused);
      } else {
        expect(r.code, shown).toBe(0);
        expect(r.err, shown).not.toMatch(/warning|deprecated/i);
      }
      results.push({ line, r });
    }

    const outputsOf = (re: RegExp) => results.filter((x) => re.test(x.line.text));
    // The README covers the seeds' flow: each step is in it.
    for (const step of [
      /authorizations grant/,
      /keys create/,
      /create-bucket/,
      /put-bucket-encryption/,
      /keys disable/,
      /keys enable/,
      /keys rotate/,
      /keys delete/,
    ])
      expect(outputsOf(step).length, String(step)).toBeGreaterThan(0);

    // Reads of the object: refused while the key is disabled, the content otherwise.
    const reads = outputsOf(/s3 cp s3:\/\/\S+ -/);
    expect(reads.map((x) => (x.line.refused ? 'refused' : x.r.out))).toEqual([
      'refused',
      'hello, coffer\n',
      'hello, coffer\n',
    ]);

    // On the server: the tenant's key, rotated once, the bucket registered on it while it lived, destroyed now.
    const { apikey } = JSON.parse(await readFile(join(work, 'photos.json'), 'utf8')) as { apikey: string };
    const { id: keyId } = JSON.parse(await readFile(join(work, 'key.json'), 'utf8')) as { id: string };
    const token = await tokenFor(c.gw.kmsUrl, apikey);
    const inst = await call<{ instances: Array<{ id: string }> }>(c.gw.kmsUrl, token, 'GET', '/iam/v1/instances');
    expect(inst.json.instances).toHaveLength(1);
    const headers = { 'bluemix-instance': inst.json.instances[0]!.id };
    const meta = await call<{ resources: Array<{ state: number }> }>(
      c.gw.kmsUrl,
      token,
      'GET',
      `/api/v2/keys/${keyId}/metadata`,
      { headers },
    );
    expect(meta.json.resources[0]!.state).toBe(5);
    const rotated = outputsOf(/keys rotate/)[0]!.r.out;
    expect(rotated).toMatch(new RegExp(`^rotated ${keyId}: new version (?!${keyId})\\S+\\n$`));
    expect(outputsOf(/keys registrations/)[0]!.r.out).toMatch(new RegExp(`${keyId}\\s+crn:\\S+:bucket:photos\\s`));
  });
});
