import { describeStorageConformance } from '@tessera/client/testing';
import { memoryStorage } from '../../src/storage/memory.js';

describeStorageConformance('memoryStorage', () => memoryStorage());
