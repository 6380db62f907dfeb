// The packages as npm publishes them: packed with `npm pack`, linted with publint and
// Are-the-types-wrong, then installed from the tarballs into a fresh project outside the
// workspace, where the README's getting-started blocks run as they are written.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { commandLines, readmeBlocks } from './support/readme-blocks.js';
import { cleanEnv, freePort, Spawned, waitForHttp } from './support/spawned.js';
import { packWorkspaces, ROOT, type Tarball, workspacePackages } from './support/workspace.js';

const run = promisify(execFile);

// Bounds of every step (a clean machine fills npm's cache from the registry only once).
const INSTALL_MS = 240_000;
const START_MS = 30_000;
const STOP_MS = 12_000;
const STEP_MS = 30_000;

/** The one license and repository every published package names. */
const LICENSE = 'MIT';
const REPOSITORY = 'git+https://github.com/tessera-dev/tessera.git';
/** Core size limit of the client SDK, min+gzip, as a user's bundler ships it. */
const CORE_LIMIT_BYTES = 6 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'tessera-packages-'));
let tarballs: Tarball[] = [];

before(() => {
  const started = Date.now();
  mkdirSync(join(dir, 'tarballs'));
  tarballs = packWorkspaces(join(dir, 'tarballs'));
  console.log(`# packed ${tarballs.length} packages in ${Date.now() - started} ms`);
  for (const t of tarballs) console.log(`#   ${t.name}: ${t.size} B packed, ${t.unpackedSize} B unpacked`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('every workspace package is publishable', () => {
  it('each is published and packed; only test fixtures are private, and nothing published needs them', () => {
    const packages = workspacePackages();
    const privates = packages.filter((p) => p.private);
    for (const p of privates) assert.match(p.dir, /^fixtures\//, `${p.name} is private`);
    for (const p of packages.filter((q) => !q.private)) {
      const deps = Object.keys({
        ...(p.json.dependencies as object | undefined),
        ...(p.json.peerDependencies as object | undefined),
      });
      for (const q of privates) assert.ok(!deps.includes(q.name), `${p.name} depends on private ${q.name}`);
    }
    assert.deepEqual(
      tarballs.map((t) => t.name).sort(),
      packages
        .filter((p) => !p.private)
        .map((p) => p.name)
        .sort(),
    );
  });

  it('metadata: license, repository, homepage, keywords, engines, sideEffects, ESM exports with types', () => {
    const rootLicense = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    for (const p of workspacePackages().filter((q) => !q.private)) {
      const j = p.json as {
        license?: string;
        repository?: { url?: string; directory?: string };
        homepage?: string;
        keywords?: string[];
        engines?: { node?: string };
        sideEffects?: unknown;
        type?: string;
        description?: string;
        exports?: Record<string, Record<string, string>>;
      };
      assert.equal(j.license, LICENSE, p.name);
      assert.equal(readFileSync(join(ROOT, p.dir, 'LICENSE'), 'utf8'), rootLicense, `${p.dir}/LICENSE`);
      assert.ok(existsSync(join(ROOT, p.dir, 'README.md')), `${p.dir}/README.md`);
      assert.equal(j.repository?.url, REPOSITORY, p.name);
      assert.equal(j.repository?.directory, p.dir, p.name);
      assert.match(j.homepage ?? '', new RegExp(`/tree/main/${p.dir}#readme$`), p.name);
      assert.ok((j.keywords ?? []).length > 0, `${p.name}: keywords`);
      assert.equal(j.engines?.node, '>=20', p.name);
      assert.ok(j.sideEffects !== undefined, `${p.name}: sideEffects`);
      assert.equal(j.type, 'module', p.name);
      assert.ok(j.description, `${p.name}: description`);
      for (const [subpath, conditions] of Object.entries(j.exports ?? {})) {
        // Types first, the workspace's source condition kept for the tests, `default` last.
        assert.deepEqual(
          Object.keys(conditions),
          ['@tessera/source', 'types', 'default'],
          `${p.name} ${subpath}`,
        );
        assert.match(conditions.types!, /^\.\/dist\/.*\.d\.ts$/, `${p.name} ${subpath}`);
        assert.match(conditions.default!, /^\.\/dist\/.*\.js$/, `${p.name} ${subpath}`);
      }
    }
  });

  it('tarballs hold only dist, README, LICENSE and package.json: no build info, maps, sources or tests', () => {
    for (const t of tarballs) {
      const stray = t.files.filter(
        (f) =>
          !['package.json', 'README.md', 'LICENSE'].includes(f) &&
          !(f.startsWith('dist/') && !f.endsWith('.map') && !f.includes('tsbuildinfo')),
      );
      assert.deepEqual(stray, [], t.name);
      for (const f of ['README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) {
        assert.ok(t.files.includes(f), `${t.name} has ${f}`);
      }
      assert.ok(!t.files.some((f) => /\.test\.|\/test\//.test(f)), `${t.name}: no tests`);
    }
    const cli = tarballs.find((t) => t.name === '@tessera/cli')!;
    const pkg = workspacePackages().find((p) => p.name === '@tessera/cli')!.json as {
      bin: Record<string, string>;
    };
    assert.deepEqual(pkg.bin, { tessera: './dist/bin.js' });
    assert.ok(cli.files.includes('dist/bin.js'));
    const demo = tarballs.find((t) => t.name === '@tessera/demo')!;
    for (const f of ['dist/web/app.js', 'dist/web/index.html', 'dist/web/app.css', 'dist/web/favicon.svg']) {
      assert.ok(demo.files.includes(f), `the demo ships its built page: ${f}`);
    }
    const dashboard = tarballs.find((t) => t.name === '@tessera/dashboard')!;
    for (const f of ['dist/web/app.js', 'dist/web/index.html', 'dist/web/app.css', 'dist/web/favicon.svg']) {
      assert.ok(dashboard.files.includes(f), `the dashboard ships its built page: ${f}`);
    }
  });

  it('publint finds nothing, not even a suggestion', async () => {
    const problems: string[] = [];
    for (const t of tarballs) {
      const buffer = readFileSync(t.file);
      const tarball = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
      const { messages, pkg } = await publint({ pack: { tarball }, strict: true, level: 'suggestion' });
      for (const m of messages) problems.push(`${t.name}: ${m.type} ${formatMessage(m, pkg) ?? m.code}`);
    }
    assert.deepEqual(problems, []);
  });

  it('Are-the-types-wrong: types resolve for ESM consumers (node16 and bundler) at every entry point', async () => {
    // ESM-only packages (attw's `esm-only` profile): CommonJS `require` and the pre-exports
    // node10 resolution do not apply.
    const ignored = new Set(['node10', 'node16-cjs']);
    const failures: string[] = [];
    for (const t of tarballs) {
      const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(readFileSync(t.file))));
      if (!analysis.types) {
        failures.push(`${t.name}: no types`);
        continue;
      }
      for (const problem of analysis.problems) {
        if ('resolutionKind' in problem && ignored.has(problem.resolutionKind)) continue;
        failures.push(`${t.name}: ${JSON.stringify(problem)}`);
      }
      const entrypoints = Object.keys(analysis.entrypoints).sort();
      const exported = Object.keys(
        (workspacePackages().find((p) => p.name === t.name)!.json.exports ?? {}) as object,
      ).sort();
      assert.deepEqual(entrypoints, exported, `${t.name}: every export was checked`);
    }
    assert.deepEqual(failures, []);
  });
});

describe('installed from the tarballs into a fresh project', () => {
  const app = join(dir, 'app');
  const blocks = readmeBlocks();
  const block = (name: string) => {
    const text = blocks.get(name);
    assert.ok(text, `README has a block marked <!-- tested: ${name} -->`);
    return text;
  };
  const running: Spawned[] = [];
  let env: Record<string, string> = {};
  let issuer = '';
  let cliVersion = '';
  after(async () => {
    for (const p of running) await p.kill();
  });

  it('npm install from the tarballs, offline first, without rebuilding better-sqlite3', async (t) => {
    const started = Date.now();
    mkdirSync(app);
    // The host app's own dependencies, at the workspace's versions (already in npm's cache).
    const versionOf = (name: string) =>
      (
        JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
    const dependencies: Record<string, string> = {
      fastify: versionOf('fastify'),
      express: versionOf('express'),
      esbuild: versionOf('esbuild'),
    };
    for (const tb of tarballs) dependencies[tb.name] = `file:${tb.file}`;
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify({ name: 'tessera-install-test', private: true, type: 'module', dependencies }, null, 2)}\n`,
    );
    // The README's install lines name only packages this project installs.
    for (const name of ['serve.sh', 'install-api.sh', 'install-app.sh']) {
      for (const line of commandLines(block(name)).filter((l) => l.startsWith('npm install '))) {
        for (const pkg of line.slice('npm install '.length).split(/\s+/)) {
          assert.ok(pkg in dependencies, `${name}: ${pkg} is installed by this test`);
        }
      }
    }

    // better-sqlite3's install script finds a prebuilt binary before it would download or compile
    // one: the workspace's own build, packed the way prebuild-install names its downloads.
    const sqlite = join(ROOT, 'node_modules/better-sqlite3');
    const abi = process.versions.modules;
    const prebuilds = join(dir, 'prebuilds');
    mkdirSync(prebuilds);
    const asset = `better-sqlite3-v${versionOf('better-sqlite3')}-node-v${abi}-${process.platform}-${process.arch}.tar.gz`;
    execFileSync('tar', ['-czf', join(prebuilds, asset), '-C', sqlite, 'build/Release/better_sqlite3.node']);

    env = cleanEnv({
      npm_config_better_sqlite3_local_prebuilds: prebuilds,
      npm_config_build_from_source: 'false',
      npm_config_prefer_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    });
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: app,
      env,
      timeout: INSTALL_MS,
    });
    const installed = join(app, 'node_modules/better-sqlite3/build/Release');
    assert.ok(existsSync(join(installed, 'better_sqlite3.node')), 'the binary is in place');
    assert.ok(!existsSync(join(installed, 'obj.target')), 'it was not compiled from source');
    // No workspace links: every @tessera package is a real folder unpacked from its tarball.
    for (const tb of tarballs) {
      const manifest = JSON.parse(
        readFileSync(join(app, 'node_modules', tb.name, 'package.json'), 'utf8'),
      ) as { version: string };
      assert.equal(manifest.version, tb.version);
      assert.ok(!existsSync(join(app, 'node_modules', tb.name, 'src')), `${tb.name} has no sources`);
    }
    t.diagnostic(`npm install took ${Date.now() - started} ms`);
  });

  it('every package loads in the fresh project (vault and React bindings included)', async () => {
    for (const tb of tarballs.filter((t) => !['@tessera/cli'].includes(t.name))) {
      const { stdout } = await run(
        process.execPath,
        ['--input-type=module', '-e', `console.log(Object.keys(await import('${tb.name}')).length)`],
        { cwd: app, env, timeout: STEP_MS },
      );
      assert.ok(Number(stdout) > 0, `${tb.name} exports something`);
    }
  });

  it('tessera --version prints the package version', async () => {
    cliVersion = (
      JSON.parse(readFileSync(join(app, 'node_modules/@tessera/cli/package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    const { stdout } = await run('npx', ['tessera', '--version'], { cwd: app, env, timeout: STEP_MS });
    assert.equal(stdout.trim(), cliVersion);
    const help = await run('npx', ['tessera', '--help'], { cwd: app, env, timeout: STEP_MS });
    assert.match(help.stdout, /serve/);
  });

  it('the README operator path: tessera serve, then clients, a user and doctor from a second terminal', async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    env = { ...env, TESSERA_PORT: String(port) };
    const serveLine = commandLines(block('serve.sh')).find((l) => l.includes('tessera serve'));
    assert.equal(serveLine, 'npx tessera serve');
    // The installed bin itself (what `npx tessera` runs), so that signals reach the server.
    const serve = new Spawned(join(app, 'node_modules/.bin/tessera'), ['serve'], { cwd: app, env });
    running.push(serve);
    await serve.waitFor('Tessera is listening', START_MS);
    await serve.waitFor('"tessera started"', START_MS);
    const started = serve.stdout
      .split('\n')
      .filter((l) => l.includes('"tessera started"'))
      .map((l) => JSON.parse(l) as { versions: Record<string, string>; issuer: string });
    assert.equal(started.length, 1, 'one start line');
    assert.equal(started[0]!.issuer, issuer);
    assert.equal(started[0]!.versions.cli, cliVersion);
    assert.equal(started[0]!.versions.server, tarballs.find((tb) => tb.name === '@tessera/server')!.version);
    assert.equal(started[0]!.versions.node, process.versions.node);
    assert.ok(existsSync(join(app, 'tessera.db')), 'the database is ./tessera.db');

    writeFileSync(join(app, 'operator.sh'), block('operator.sh'));
    const { stdout, stderr } = await run('bash', ['-euo', 'pipefail', 'operator.sh'], {
      cwd: app,
      env,
      timeout: STEP_MS * 2,
    });
    const secret = /client secret \(shown once\): (\S+)/.exec(`${stdout}${stderr}`)?.[1];
    assert.ok(secret, `clients add printed the API's secret:\n${stdout}${stderr}`);
    assert.match(`${stdout}${stderr}`, /revoke/i, 'doctor ran the round trip to its end');
    env = { ...env, TESSERA_ISSUER: issuer, ORDERS_API_SECRET: secret };
  });

  for (const [name, framework] of [
    ['api-fastify.mjs', 'Fastify'],
    ['api-express.mjs', 'Express'],
  ] as const) {
    it(`the README API path (${framework}), called by the README app path (sign in, refresh, fetch)`, async () => {
      writeFileSync(join(app, name), block(name));
      writeFileSync(join(app, 'app.mjs'), block('app.mjs'));
      const port = await freePort();
      const url = `http://127.0.0.1:${port}/orders`;
      const api = new Spawned(process.execPath, [name], { cwd: app, env: { ...env, PORT: String(port) } });
      running.push(api);
      await waitForHttp(url, START_MS, api);

      const bare = await fetch(url);
      assert.equal(bare.status, 401);
      assert.equal(bare.headers.get('www-authenticate'), 'Bearer');
      const forged = await fetch(url, { headers: { authorization: 'Bearer not.a.token' } });
      assert.equal(forged.status, 401);
      assert.match(forged.headers.get('www-authenticate') ?? '', /invalid_token/);

      const { stdout } = await run(process.execPath, ['app.mjs'], {
        cwd: app,
        env: { ...env, API_URL: url },
        timeout: STEP_MS,
      });
      assert.match(stdout, /^200 \{ user: '[^']+', orders: \[\] \}/, stdout);
      await api.stop('SIGTERM', STOP_MS);
    });
  }

  it('the README plugin path: the server mounted at /auth inside a host Fastify app', async () => {
    writeFileSync(join(app, 'mount.mjs'), block('mount.mjs'));
    const port = await freePort();
    // Without the TESSERA_* settings of the steps above: the block's own configuration applies.
    const plain = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('TESSERA_')));
    const host = new Spawned(process.execPath, ['mount.mjs'], {
      cwd: app,
      env: { ...plain, PORT: String(port) },
    });
    running.push(host);
    const origin = `http://127.0.0.1:${port}`;
    await waitForHttp(`${origin}/`, START_MS, host);
    assert.deepEqual(await (await fetch(`${origin}/`)).json(), {
      hello: 'the host app keeps its own routes',
    });
    const meta = (await (await fetch(`${origin}/auth/.well-known/oauth-authorization-server`)).json()) as {
      issuer: string;
      token_endpoint: string;
    };
    assert.equal(meta.issuer, `${origin}/auth`);
    assert.equal(meta.token_endpoint, `${origin}/auth/oauth/token`);
    await host.stop('SIGTERM', STOP_MS);
  });

  it('the client bundled for the browser by the installed esbuild stays under 6 KB min+gzip', async (t) => {
    writeFileSync(join(app, 'core.mjs'), "export * from '@tessera/client';\n");
    writeFileSync(
      join(app, 'bundle.mjs'),
      [
        "import { build } from 'esbuild';",
        "import { gzipSync } from 'node:zlib';",
        "const out = await build({ entryPoints: ['core.mjs'], bundle: true, minify: true, format: 'esm',",
        "  platform: 'browser', write: false, logLevel: 'silent' });",
        'const bytes = out.outputFiles[0].contents;',
        'console.log(JSON.stringify({ min: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length,',
        '  nodeImports: /from\\s*["\']node:/.test(out.outputFiles[0].text) }));',
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, ['bundle.mjs'], { cwd: app, env, timeout: STEP_MS });
    const size = JSON.parse(stdout) as { min: number; gzip: number; nodeImports: boolean };
    t.diagnostic(`client core as shipped: ${size.min} B min, ${size.gzip} B min+gzip`);
    assert.equal(size.nodeImports, false);
    assert.ok(size.gzip <= CORE_LIMIT_BYTES, `core is ${size.gzip} B min+gzip`);
  });

  it('tessera demo runs from the installed CLI, with its built page', async () => {
    const port = await freePort();
    const demo = new Spawned(
      join(app, 'node_modules/.bin/tessera'),
      ['demo', '--port', String(port), '--db', 'demo/demo.db'],
      {
        cwd: app,
        env,
      },
    );
    running.push(demo);
    await demo.waitFor('Tessera demo is running', START_MS);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/app\.js"/);
    const script = await fetch(`http://127.0.0.1:${port}/app.js`);
    assert.equal(script.status, 200);
    assert.ok((await script.text()).length > 1000);
    // The dashboard, found by the installed server through its @tessera/dashboard dependency.
    const dashboard = await fetch(`http://127.0.0.1:${port}/admin/`);
    assert.equal(dashboard.status, 200);
    assert.match(await dashboard.text(), /<script type="module" src="app\.js"/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/admin/app.js`)).status, 200);
    assert.equal(await demo.stop('SIGINT', STOP_MS), 0, demo.output);
  });

  it('tessera serve stops on SIGTERM with exit code 0', async () => {
    const serve = running.find((p) => p.child.spawnargs.includes('serve'))!;
    assert.equal(await serve.stop('SIGTERM', STOP_MS), 0, serve.output);
    assert.match(serve.stderr, /SIGTERM received, shutting down/);
  });
});
