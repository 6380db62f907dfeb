// Server rendering, bundled by esbuild for React 19 and 18 and run in Node (test/ssr.test.ts).
import { createTesseraClient, type TesseraClient } from '@tessera/client';
import { SessionGate, TesseraProvider, useAccessToken, useSession } from '@tessera/react';
import { version } from 'react';
import { renderToString } from 'react-dom/server';

function Who() {
  const { status, user } = useSession();
  const token = useAccessToken();
  return <p id="who">{`${status} ${String(user?.name ?? '-')} ${token ?? 'no-token'}`}</p>;
}

/** Renders the app as a server would, with a client that has a session. */
export function render(client: TesseraClient): string {
  return renderToString(
    <TesseraProvider client={client}>
      <Who />
      <SessionGate loading={<p id="loading">Loading…</p>} signedOut={<p id="login">Sign in</p>}>
        <p id="app">the app</p>
      </SessionGate>
    </TesseraProvider>,
  );
}

export { createTesseraClient, version };
