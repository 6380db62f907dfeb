import type { Coordinator } from '../core/types.js';

/**
 * The default where Web Locks are missing (Node, React Native): a client alone with its session.
 * It needs no lock (its own refreshes are single-flighted already) and has nobody to hand a
 * session to. Clients that share a session in one process share an `inProcessCoordinator()`.
 */
export const soloCoordinator: Coordinator = {
  withLock: (_name, fn) => fn(),
  join: () => ({ post() {}, leave() {} }),
};
