import type { AccessTokenStore, RevocationSignal, SessionStore, Stores } from '../ports/index.js';

/**
 * `stores` with its revoking methods (`revokeFamily`, `revokeFamilies`, `revokeJti`) followed by
 * `signal.publish()` once they have written a notice, so every revocation feed reads it at once.
 * The other methods and members are the originals.
 */
export function signalRevocations<S extends Stores>(stores: S, signal: RevocationSignal): S {
  const s = stores.sessions;
  const a = stores.accessTokens;
  const sessions: SessionStore = {
    createFamily: (...args) => s.createFamily(...args),
    findToken: (...args) => s.findToken(...args),
    findFamily: (...args) => s.findFamily(...args),
    rotate: (...args) => s.rotate(...args),
    listFamilies: (...args) => s.listFamilies(...args),
    listTokens: (...args) => s.listTokens(...args),
    countActiveFamilies: (...args) => s.countActiveFamilies(...args),
    async revokeFamily(...args) {
      const ended = await s.revokeFamily(...args);
      if (ended) signal.publish();
      return ended;
    },
    async revokeFamilies(...args) {
      const ended = await s.revokeFamilies(...args);
      if (ended.length > 0) signal.publish();
      return ended;
    },
  };
  const accessTokens: AccessTokenStore = {
    saveAccessToken: (...args) => a.saveAccessToken(...args),
    findAccessToken: (...args) => a.findAccessToken(...args),
    isJtiRevoked: (...args) => a.isJtiRevoked(...args),
    async revokeJti(...args) {
      await a.revokeJti(...args);
      signal.publish();
    },
  };
  return { ...stores, sessions, accessTokens };
}
