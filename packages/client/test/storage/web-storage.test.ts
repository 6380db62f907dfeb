import { describeStorageConformance } from '@tessera/client/testing';
import { webStorage } from '../../src/storage/web-storage.js';
import { MapStorage } from '../support/map-storage.js';

describeStorageConformance('webStorage', () => webStorage(new MapStorage()));
