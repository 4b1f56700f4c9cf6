import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErasureBlobStore } from '../../../../src/storage/erasure/erasureBlobStore.js';
import { blobStoreContract } from '../../../contract/blobStore.contract.js';

async function fixture(drives: number, parity: number, blockSize?: number) {
  const dir = await mkdtemp(join(tmpdir(), 'coffer-ec-'));
  const paths = Array.from({ length: drives }, (_, i) => join(dir, `d${i + 1}`));
  return {
    store: await ErasureBlobStore.open({ drives: paths, parity, blockSize }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

blobStoreContract('ErasureBlobStore 2+2 (4 drives)', () => fixture(4, 2));
// Small blocks: the contract's bodies then span many stripes and ranges cross stripe boundaries.
blobStoreContract('ErasureBlobStore 2+1 (3 drives, 4 KiB blocks)', () => fixture(3, 1, 4096));
blobStoreContract('ErasureBlobStore 1+1 (2 drives, 1 KiB blocks)', () => fixture(2, 1, 1024));
