// The published package: `npm pack` holds only what users need, and the tarball installed into an
// empty folder runs `exai --version`, `exai chat --emulator` and `exai serve` with no dev dependency,
// loads with require() where Node can require an ES module, and the README's TypeScript compiles.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const WORK = mkdtempSync(join(tmpdir(), 'exai-pack-'));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
let app = '';
let bin = '';
let files: string[] = [];
let sizes = { tarballKB: 0, unpackedKB: 0, installedWithDepsMB: 0 };

function du(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    total += s.isDirectory() ? du(p) : s.size;
  }
  return total;
}

beforeAll(() => {
  const packed = JSON.parse(
    // --ignore-scripts: `prepack` would rebuild dist/ while other test files run it.
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', WORK], {
      cwd: ROOT,
      encoding: 'utf8',
    }),
  )[0] as { filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> };
  files = packed.files.map((f) => f.path);
  app = join(WORK, 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'package.json'), '{"name":"app","private":true}');
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--omit=dev', '--prefer-offline', join(WORK, packed.filename)],
    { cwd: app, stdio: 'ignore' },
  );
  bin = join(app, 'node_modules/.bin/exai');
  sizes = {
    tarballKB: Math.round(packed.size / 1024),
    unpackedKB: Math.round(packed.unpackedSize / 1024),
    installedWithDepsMB: +(du(join(app, 'node_modules')) / 1024 / 1024).toFixed(1),
  };
  console.info('package sizes:', JSON.stringify(sizes));
}, 180_000);

describe('the npm package', () => {
  it("the README's size figures are within a quarter of the packed package's", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const [, tarball, unpacked] = /a (\d+) KB tarball \((\d+) KB unpacked/.exec(readme) ?? [];
    const near = (quoted: number, measured: number) => Math.abs(quoted - measured) / measured <= 0.25;
    expect(near(Number(tarball), sizes.tarballKB), `README ${tarball} KB, packed ${sizes.tarballKB} KB`).toBe(
      true,
    );
    expect(
      near(Number(unpacked), sizes.unpackedKB),
      `README ${unpacked} KB, packed ${sizes.unpackedKB} KB`,
    ).toBe(true);
  });

  it.skipIf(spawnSync('git', ['rev-parse'], { cwd: ROOT }).status !== 0)(
    'bench results are not tracked: npm run bench leaves the work tree clean',
    () => {
      const tracked = spawnSync('git', ['ls-files', 'bench/results'], { cwd: ROOT, encoding: 'utf8' });
      expect(tracked.stdout).toBe('');
      const ignored = spawnSync('git', ['check-ignore', '-q', 'bench/results/latest.json'], { cwd: ROOT });
      expect(ignored.status).toBe(0);
    },
  );

  it('ships dist, README, LICENSE and package.json only: no sources, tests or benchmarks', () => {
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('README.md');
    expect(files).toContain('LICENSE');
    expect(files.filter((f) => !/^(dist\/|README\.md$|package\.json$|LICENSE$)/.test(f))).toEqual([]);
  });

  it('ships no source map and no reference to one (src/ is not shipped)', () => {
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    const dist = join(app, 'node_modules/exai/dist');
    const js = files.filter((f) => /\.(c|m)?js$/.test(f)).map((f) => join(dist, f.slice('dist/'.length)));
    expect(js.length).toBeGreaterThan(10);
    expect(js.filter((f) => readFileSync(f, 'utf8').includes('sourceMappingURL'))).toEqual([]);
  });

  it("require('exai') works in a CommonJS project on this Node (20.19+, 22.12+ can require ESM)", () => {
    const code =
      "const { createClient, VERSION } = require('exai'); console.log(typeof createClient, VERSION);";
    const run = spawnSync(process.execPath, ['-e', code], { cwd: app, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toMatch(/^function \d+\.\d+\.\d+/);
  });

  it("require('exai') without require(esm) fails with one clear sentence, not Node's exports error", () => {
    const run = spawnSync(process.execPath, ['--no-experimental-require-module', '-e', "require('exai')"], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(
      /exai is an ES module and require\('exai'\) cannot load it: .*import \{ createClient \} from 'exai'/,
    );
    expect(run.stderr).not.toMatch(/No "exports" main defined/);
  });

  it("the README's TypeScript snippet compiles with the settings the README states", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const library = readme.slice(readme.indexOf('\n## Library'), readme.indexOf('\n## CLI'));
    const block = (lang: string) => new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(library)?.[1];
    const snippet = block('ts');
    const tsconfig = block('json');
    expect(snippet).toMatch(/from 'exai'/);
    expect(library).toContain('"type": "module"');
    const esm = join(app, 'esm');
    mkdirSync(join(esm, 'node_modules/@types'), { recursive: true });
    // The README's `npm install --save-dev typescript @types/node`, from this checkout's copies.
    symlinkSync(join(ROOT, 'node_modules/@types/node'), join(esm, 'node_modules/@types/node'), 'dir');
    writeFileSync(join(esm, 'package.json'), '{"name":"esm-app","private":true,"type":"module"}');
    writeFileSync(join(esm, 'tsconfig.json'), tsconfig ?? '');
    writeFileSync(join(esm, 'index.ts'), snippet ?? '');
    const tsc = spawnSync(process.execPath, [TSC, '-p', esm, '--noEmit'], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  it('TypeScript tells a CommonJS project the truth: nodenext (require of ESM) compiles and runs, node16 refuses', () => {
    const cjs = join(app, 'cjs');
    mkdirSync(join(cjs, 'node_modules/@types'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules/@types/node'), join(cjs, 'node_modules/@types/node'), 'dir');
    writeFileSync(join(cjs, 'package.json'), '{"name":"cjs-app","private":true,"type":"commonjs"}');
    writeFileSync(
      join(cjs, 'index.ts'),
      "import { createClient } from 'exai';\nconsole.log(typeof createClient);\n",
    );
    const compile = (module: string) => {
      const options = {
        module,
        target: 'es2022',
        strict: true,
        types: ['node'],
        outDir: 'out',
        skipLibCheck: true,
      };
      writeFileSync(
        join(cjs, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: options, files: ['index.ts'] }),
      );
      return spawnSync(process.execPath, [TSC, '-p', cjs], { encoding: 'utf8' });
    };
    expect(compile('node16').stdout).toMatch(/TS1479/);
    const ok = compile('nodenext');
    expect(ok.stdout + ok.stderr).toBe('');
    const run = spawnSync(process.execPath, [join(cjs, 'out/index.js')], { encoding: 'utf8' });
    expect(run.stdout.trim()).toBe('function');
  });

  it('runs exai --version and exai chat --emulator from the installed tarball', () => {
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const chat = spawnSync(bin, ['chat', '--emulator', 'hi'], {
      encoding: 'utf8',
      cwd: WORK,
      env: { PATH: process.env.PATH ?? '', EXAI_LOG_LEVEL: 'silent' },
    });
    expect(chat.status).toBe(0);
    expect(chat.stdout.length).toBeGreaterThan(50);
  }, 60_000);

  it('serves MCP over stdio from the installed tarball (tools/list)', async () => {
    const client = new Client({ name: 'package-test', version: '0' });
    await client.connect(
      new StdioClientTransport({
        command: bin,
        args: ['serve'],
        env: { PATH: process.env.PATH ?? '', EXAI_LOG_LEVEL: 'silent' },
        cwd: WORK,
      }),
    );
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['chat', 'chat_resume', 'listmodels', 'version']);
    await client.close();
  }, 60_000);
});
