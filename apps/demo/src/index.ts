/** The Tessera demo: `startDemo()` runs the page, a protected API and the authorization server on one origin. */
export {
  DEMO_API_CLIENT_ID,
  DEMO_CLIENT_ID,
  DEMO_SCOPE,
  DEMO_USERS,
  type DemoOptions,
  type RunningDemo,
  startDemo,
} from './start-demo.js';
export { DEMO_VERSION } from './version.js';
