import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The page, its script and its styles, ready to serve. */
export interface WebAssets {
  html: string;
  js: string;
  css: string;
  /** The page's icon (SVG), also served as `/favicon.ico` for clients that ask for that. */
  icon: string;
}

// `../src/web/` from both `src/` (tsx, tests) and `dist/` (the built CLI): the page is always
// bundled from its TypeScript source, so a fresh clone needs no extra build step.
const WEB = new URL('../src/web/', import.meta.url);

/** Bundles the browser app with esbuild (about 100 ms), from the workspace sources of the SDK. */
export async function bundleWebApp(): Promise<WebAssets> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('app.ts', WEB))],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@tessera/source'],
    write: false,
    logLevel: 'silent',
  });
  const [html, css, icon] = await Promise.all([
    readFile(new URL('index.html', WEB), 'utf8'),
    readFile(new URL('app.css', WEB), 'utf8'),
    readFile(new URL('favicon.svg', WEB), 'utf8'),
  ]);
  return { html, js: out.outputFiles[0]!.text, css, icon };
}
