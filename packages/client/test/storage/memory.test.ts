import { describe } from 'node:test';
import { memoryStorage } from '../../src/storage/memory.js';
import { storageConformance } from './conformance.js';

describe('memoryStorage', () => storageConformance(() => memoryStorage()));
