import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The page, its script and its styles, ready to serve. */
export interface WebAssets {
  html: string;
  js: string;
  css: string;
  /** The page's icon (SVG), also served as `/favicon.ico` for clients that ask for that. */
  icon: string;
}

// The page's sources, from both `src/` (tsx, tests) and `dist/` (the workspace's build).
const SOURCES = new URL('../src/web/', import.meta.url);
// The built page beside the compiled module: `dist/web/`, written by `npm run build` and shipped
// in the package. Under `src/` (tests, tsx) there is none, so the page is bundled from source.
const BUILT = new URL('./web/', import.meta.url);
const FILES = { js: 'app.js', html: 'index.html', css: 'app.css', icon: 'favicon.svg' } as const;

/**
 * The demo page: read from `dist/web/` when it was built (the installed package has no sources
 * and no esbuild), otherwise bundled from the sources with esbuild (about 100 ms).
 */
export async function loadWebAssets(): Promise<WebAssets> {
  if (existsSync(new URL(FILES.js, BUILT))) {
    const read = (f: string) => readFile(new URL(f, BUILT), 'utf8');
    const [js, html, css, icon] = await Promise.all([
      read(FILES.js),
      read(FILES.html),
      read(FILES.css),
      read(FILES.icon),
    ]);
    return { js, html, css, icon };
  }
  return bundleWebApp();
}

/** Bundles the browser app with esbuild from the workspace sources of the SDK. */
export async function bundleWebApp(): Promise<WebAssets> {
  // A development-time dependency: the installed package reads the prebuilt page instead.
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [fileURLToPath(new URL('app.ts', SOURCES))],
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
    readFile(new URL(FILES.html, SOURCES), 'utf8'),
    readFile(new URL(FILES.css, SOURCES), 'utf8'),
    readFile(new URL(FILES.icon, SOURCES), 'utf8'),
  ]);
  const [bundle] = out.outputFiles;
  if (!bundle) throw new Error('esbuild wrote no bundle for the demo page');
  return { html, js: bundle.text, css, icon };
}

/** Writes the bundled page to `dir` (the build writes `dist/web/`, which the package ships). */
export async function writeWebAssets(dir: URL): Promise<void> {
  const assets = await bundleWebApp();
  await mkdir(dir, { recursive: true });
  await Promise.all(
    (Object.keys(FILES) as (keyof typeof FILES)[]).map((k) => writeFile(new URL(FILES[k], dir), assets[k])),
  );
}
