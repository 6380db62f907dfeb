import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** The React versions the bindings are tested with: 19 at the root, 18 in fixtures/react-18. */
export const REACTS = {
  '19': `${root}node_modules`,
  '18': `${root}fixtures/react-18/node_modules`,
} as const;
export type ReactMajor = keyof typeof REACTS;

/**
 * Bundles a test entry with esbuild against one React version (`react` and `react-dom`
 * aliased to its copy), production builds, the workspace packages from source.
 */
export async function bundle(
  entry: string,
  react: ReactMajor,
  platform: 'browser' | 'node',
): Promise<string> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL(`../app/${entry}`, import.meta.url))],
    bundle: true,
    format: 'esm',
    platform,
    target: 'es2022',
    jsx: 'automatic',
    conditions: ['@tessera/source'],
    alias: { react: `${REACTS[react]}/react`, 'react-dom': `${REACTS[react]}/react-dom` },
    define: { 'process.env.NODE_ENV': '"production"' },
    // React's CommonJS builds require Node modules; an ES module bundle needs a `require` for them.
    banner:
      platform === 'node'
        ? {
            js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
          }
        : {},
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles![0]!.text;
}
