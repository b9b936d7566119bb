/**
 * `--out` (issue 17 item 4) and the CLI's one-line errors for files and devices (item 7):
 * the destination is checked before any work (exit 2, one line), regular files are
 * replaced atomically in their real directory, symlinks and devices are written through,
 * an interrupted run leaves no partial file, a finished result is never lost, and
 * `--engine gpu` without an adapter is one line with exit 3.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeIo } from './helpers/cli-io.ts';
import { main } from '../../src/cli/main.ts';
import { checkOutPath, writeResult } from '../../src/cli/out-file.ts';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const io = fakeIo();
  const t0 = performance.now();
  const code = await main(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr, ms: performance.now() - t0 };
}

const dir = mkdtempSync(join(tmpdir(), 'kvsched-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const small = ['--requests', '200', '--policy', 'mcsf', '--quiet'];

function oneLine(stderr: string): void {
  expect(stderr.trimEnd().split('\n'), stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('--out is checked before the work starts', () => {
  const bad: [string, string, RegExp][] = [
    ['a missing directory', join(dir, 'no-such-dir', 'x.json'), /directory ".*no-such-dir" does not exist/],
    ['a directory', dir, /is a directory; give a file name/],
    ['an empty path', '', /--out: empty path/],
    ['a directory that refuses new files', '/proc/kvsched-test.json', /cannot create files in directory "\/proc"/],
    ['a path through a regular file', join(dir, 'file.txt', 'x.json'), /a part of the path is not a directory/],
  ];
  writeFileSync(join(dir, 'file.txt'), 'x');
  for (const [what, out, pattern] of bad) {
    for (const argv of [
      ['simulate', ...small, '--out', out],
      [
        'sweep',
        '--rates',
        '50',
        '--memory',
        '16492',
        '--policy',
        'mcsf',
        '--seeds',
        '1-2',
        '--requests',
        '200',
        '--quiet',
        '--out',
        out,
      ],
      ['optimum', '--workload', 'paper-synthetic', '--time-limit', '30', '--quiet', '--out', out],
      ['paper', 'predictions', '--requests', '200', '--quiet', '--out', out],
    ]) {
      it(`${argv[0]} ${argv[1] === 'predictions' ? 'predictions ' : ''}--out ${what}: exit 2, one line, nothing run`, async () => {
        const r = await run(argv);
        expect(r.code, r.stderr).toBe(2);
        oneLine(r.stderr);
        expect(r.stderr).toMatch(pattern);
        expect(r.stdout).toBe(''); // no table: the work never started
      });
    }
  }
});

describe('--out writes', () => {
  it('replaces a regular file atomically and leaves no temporary file', async () => {
    const out = join(dir, 'a.json');
    writeFileSync(out, 'old');
    expect((await run(['simulate', ...small, '--out', out])).code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).runs).toHaveLength(1);
    expect(readdirSync(dir).filter((f) => f.includes('.partial'))).toEqual([]);
  });

  it('keeps the old file when the run fails after the check', async () => {
    const out = join(dir, 'keep.json');
    writeFileSync(out, 'old');
    const r = await run(['simulate', ...small, '--memory', '100', '--out', out]); // s + o > M: bad input
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(readFileSync(out, 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((f) => f.includes('.partial'))).toEqual([]);
  });

  it("writes through a symlink into the target's real directory, keeping the link", async () => {
    const realDir = join(dir, 'real');
    mkdirSync(realDir);
    writeFileSync(join(realDir, 'target.json'), 'old');
    const link = join(dir, 'link.json');
    symlinkSync(join(realDir, 'target.json'), link);
    expect((await run(['simulate', ...small, '--out', link])).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(realDir, 'target.json'), 'utf8')).runs).toHaveLength(1);
  });

  it('writes through to /dev/null (never replaced by a regular file)', async () => {
    expect(checkOutPath('/dev/null').kind).toBe('stream');
    const r = await run(['simulate', ...small, '--out', '/dev/null']);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('writes through to a FIFO', async () => {
    const fifo = join(dir, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reader = spawn('cat', [fifo]);
    let text = '';
    reader.stdout.on('data', (d: Buffer) => (text += d.toString()));
    const done = new Promise((resolve) => reader.on('close', resolve));
    const r = await run(['simulate', ...small, '--out', fifo]);
    await done;
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(JSON.parse(text).runs).toHaveLength(1);
  });

  it('a finished result whose destination vanished after the check is saved elsewhere, and says where', () => {
    const gone = join(dir, 'gone');
    mkdirSync(gone);
    const target = checkOutPath(join(gone, 'r.json'));
    rmSync(gone, { recursive: true });
    const w = writeResult(target, '{"x":1}\n', 'optimum');
    expect(w.ok).toBe(false);
    const saved = /saved to (\S+)$/.exec(w.message)?.[1];
    expect(saved, w.message).toBeDefined();
    expect(readFileSync(saved as string, 'utf8')).toBe('{"x":1}\n');
    rmSync(saved as string);
  });
});

const bin = join(import.meta.dirname, '..', '..', 'bin', 'kvsched.mjs');

describe('the binary', () => {
  it('SIGINT during a run leaves neither the target nor a partial file', async () => {
    const d = mkdtempSync(join(dir, 'sigint-'));
    const out = join(d, 'big.json');
    const child = spawn(
      process.execPath,
      [bin, 'simulate', '--requests', '300000', '--policy', 'mcsf,mcsf,mcsf', '--quiet', '--out', out],
      {
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 130 : null))),
    );
    const t0 = Date.now();
    while (!readdirSync(d).some((f) => f.endsWith('.partial'))) {
      if (Date.now() - t0 > 60_000) throw new Error('no partial file appeared');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    await exited;
    await new Promise((r) => setTimeout(r, 1500)); // the watcher polls every 0.2 s
    expect(readdirSync(d)).toEqual([]);
    expect(existsSync(out)).toBe(false);
  }, 120_000);

  it('--engine gpu without a usable adapter: one line naming the problem, exit 3', () => {
    const r = spawnSync(
      process.execPath,
      [bin, 'simulate', '--engine', 'gpu', '--requests', '10', '--policy', 'mcsf', '--quiet'],
      {
        encoding: 'utf8',
        env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json' },
        timeout: 120_000,
      },
    );
    expect(r.status, r.stderr).toBe(3);
    const ours = r.stderr.split('\n').filter((l) => l.startsWith('kvsched'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(
      /^kvsched simulate: --engine gpu: no usable WebGPU adapter \(.+\); VK_ICD_FILENAMES=\/nonexistent\/icd.json; see kvsched device/,
    );
    expect(r.stderr).not.toMatch(/\.(m?js|ts):\d+/); // no JavaScript stack (Dawn's own Vulkan warnings may precede)
    expect(r.stderr).not.toMatch(/XDG_RUNTIME_DIR/);
  }, 150_000);

  it('bad input through the binary: one line, exit 2, no stack trace', () => {
    for (const argv of [
      ['simulate', '--rate', '-3'],
      ['paper', 'synthetic', '--policy', 'bogus'],
      ['simulate', '--memory', '99999999999999999999'],
    ]) {
      const r = spawnSync(process.execPath, [bin, ...argv], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(2);
      oneLine(r.stderr);
    }
  }, 180_000);
});

describe('simulate --threads', () => {
  it('gives exactly the single-thread table (policies in worker threads)', async () => {
    const args = ['simulate', '--requests', '2000', '--policy', 'mcsf,vllm,alpha-clearing:0.1:0.1', '--quiet'];
    const one = await run(args);
    const three = await run([...args, '--threads', '3']);
    expect(one.code).toBe(0);
    expect(three.code, three.stderr).toBe(0);
    expect(three.stdout).toBe(one.stdout);
  }, 120_000);

  it('is refused with --out or --engine gpu', async () => {
    const r = await run(['simulate', '--threads', '2', '--out', '/dev/null']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--threads applies to the CPU engine without --out/);
  });
});

describe('the bundled CLI', () => {
  it('scripts/build-cli.mjs builds build/cli/main.mjs; bin/kvsched.mjs uses it when fresh, tsx when told', () => {
    const root = join(import.meta.dirname, '..', '..');
    const b = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(b.status, b.stderr).toBe(0);
    expect(existsSync(join(root, 'build', 'cli', 'main.mjs'))).toBe(true);
    expect(existsSync(join(root, 'build', 'cli', 'policy-worker.mjs'))).toBe(true);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const viaBundle = spawnSync(process.execPath, [bin, '--version'], {
      encoding: 'utf8',
      env: { ...process.env, KVSCHED_DEBUG: '1', KVSCHED_TSX: '' },
    });
    expect(viaBundle.stdout).toBe(`${pkg.version}\n`);
    expect(viaBundle.stderr).toMatch(/using the bundle .*build\/cli\/main\.mjs/);
    const viaTsx = spawnSync(process.execPath, [bin, '--version'], {
      encoding: 'utf8',
      env: { ...process.env, KVSCHED_DEBUG: '1', KVSCHED_TSX: '1' },
    });
    expect(viaTsx.stdout).toBe(`${pkg.version}\n`);
    expect(viaTsx.stderr).toMatch(/using tsx on src\/ \(KVSCHED_TSX is set\)/);
    // The bundle finds the shaders and the worker next to it: a GPU-free command that loads chunks.
    const sim = spawnSync(
      process.execPath,
      [bin, 'simulate', '--requests', '300', '--policy', 'mcsf,vllm', '--threads', '2', '--quiet'],
      { encoding: 'utf8', env: { ...process.env, KVSCHED_TSX: '' }, timeout: 120_000 },
    );
    expect(sim.status, sim.stderr).toBe(0);
    expect(sim.stdout).toMatch(/^mcsf\s/m);
  }, 240_000);
});
