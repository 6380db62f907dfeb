/**
 * Takes the README's screenshots of the demo (signed in, offline, signed out) in Chromium:
 *   node --import tsx --conditions=@tessera/source apps/demo/scripts/screenshots.ts
 */
import { mkdirSync } from 'node:fs';
import { launch, openDemo, shown, signIn, sleep, until } from '../test/support/browser.js';
import { cli, DemoServer } from '../test/support/demo-server.js';

const OUT = new URL('../../../docs/screenshots/', import.meta.url).pathname;
mkdirSync(OUT, { recursive: true });

const server = new DemoServer(8);
const browser = await launch();
try {
  await server.start();
  const context = await browser.newContext({ viewport: { width: 1040, height: 720 }, deviceScaleFactor: 1 });
  const page = await openDemo(context, server.url, 2_000);
  await signIn(page);
  await until(async () => (await shown(page)).refreshes >= 3, 'three silent refreshes', 40_000);
  await sleep(2_500);
  await page.screenshot({ path: `${OUT}signed-in.png` });

  await page.click('#offline-toggle');
  await until(
    async () => (await page.textContent('#remaining')) === 'expired',
    'the token to expire',
    20_000,
  );
  await sleep(2_500);
  await page.screenshot({ path: `${OUT}offline.png` });
  await page.click('#offline-toggle');
  await until(async () => (await shown(page)).state === 'online', 'online again', 20_000);

  await cli(['sessions', 'revoke', '--client', 'demo-web', '--db', server.db], server.env);
  await until(async () => (await shown(page)).screen === 'login', 'the signed-out message', 20_000);
  await page.screenshot({ path: `${OUT}signed-out.png` });
  console.log(`screenshots written to ${OUT}`);
} finally {
  await browser.close();
  await server.close();
}
