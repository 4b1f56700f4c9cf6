import { MemoryGarbageQueue } from '../../../src/meta/garbageQueue.js';
import { garbageQueueContract } from '../../contract/garbageQueue.contract.js';

garbageQueueContract('MemoryGarbageQueue', async () => ({
  queue: new MemoryGarbageQueue(),
  cleanup: async () => undefined,
}));
