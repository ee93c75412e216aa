// The published package: `npm pack` holds only what users need, and the tarball installed into an
// empty folder runs `exai --version`, `exai chat --emulator` and `exai serve` with no dev dependency.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const WORK = mkdtempSync(join(tmpdir(), 'exai-pack-'));
let bin = '';
let files: string[] = [];

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
    execFileSync('npm', ['pack', '--json', '--pack-destination', WORK], { cwd: ROOT, encoding: 'utf8' }),
  )[0] as { filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> };
  files = packed.files.map((f) => f.path);
  const app = join(WORK, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), '{"name":"app","private":true}');
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--omit=dev', '--prefer-offline', join(WORK, packed.filename)],
    { cwd: app, stdio: 'ignore' },
  );
  bin = join(app, 'node_modules/.bin/exai');
  const sizes = {
    tarballKB: Math.round(packed.size / 1024),
    unpackedKB: Math.round(packed.unpackedSize / 1024),
    installedWithDepsMB: +(du(join(app, 'node_modules')) / 1024 / 1024).toFixed(1),
  };
  console.info('package sizes:', JSON.stringify(sizes));
}, 180_000);

describe('the npm package', () => {
  it('ships dist, README and package.json only: no sources, tests or benchmarks', () => {
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('README.md');
    expect(files.filter((f) => !/^(dist\/|README\.md$|package\.json$|LICENSE$)/.test(f))).toEqual([]);
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
