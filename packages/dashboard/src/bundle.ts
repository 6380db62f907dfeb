import { copyFile, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const SOURCES = new URL('../src/web/', import.meta.url);

/**
 * Bundles the page with esbuild into `dir` (the workspace's build writes `dist/web/`): one script,
 * one stylesheet (uPlot's included), the HTML and the icon. Nothing is inline, so the page runs
 * under a Content-Security-Policy without `unsafe-inline`.
 */
export async function bundleDashboard(dir: URL): Promise<void> {
  // A development-time dependency: the installed package ships the built page.
  const { build } = await import('esbuild');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await build({
    entryPoints: { app: fileURLToPath(new URL('main.tsx', SOURCES)) },
    outdir: fileURLToPath(dir),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    conditions: ['@tessera/source'],
    legalComments: 'eof',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'favicon.svg']) {
    await copyFile(new URL(file, SOURCES), new URL(file, dir));
  }
}
