/**
 * React Native and Expo (`@tessera/client/react-native`): the session in `expo-secure-store`,
 * and a resume on `AppState`. Both take the module you already import, so nothing here depends
 * on React Native, and a web app never installs it.
 */
export type { AppStateLike } from './resume-on-foreground.js';
export { resumeOnForeground } from './resume-on-foreground.js';
export type {
  SecureStoreLike,
  SecureStoreOptionsLike,
  SecureStoreStorageOptions,
} from './secure-store-storage.js';
export { SECURE_STORE_VALUE_LIMIT, secureStoreStorage } from './secure-store-storage.js';
