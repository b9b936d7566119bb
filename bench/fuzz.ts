/**
 * `npm run fuzz`: the fuzzers of issue 17 at full size. Writes bench/results/fuzz.json.
 *
 *   npx tsx bench/fuzz.ts [--cli 10000] [--imports 10000] [--browser 1000] [--seed 1]
 *
 * - CLI: seeded `simulate`/`optimum` invocations in-process (test/fuzz/cli.ts), each
 *   classified clean-error / success / stuck or a finding (crash, bad-exit, unclean-error).
 * - Imports: hostile bundles and profiles through History's import path into an in-memory
 *   store (test/fuzz/imports.ts), then the same generator in Chromium against IndexedDB
 *   (test/browser/fuzz-import.test.ts with VITE_FUZZ_RUNS) — the record count must not
 *   change on a rejection.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { StoredRecord } from '../src/storage/schema.ts';
import { fuzzCli } from '../test/fuzz/cli.ts';
import { importCases, runImportCase, validRecords, type ImportOutcome } from '../test/fuzz/imports.ts';

const { values } = parseArgs({
  options: {
    cli: { type: 'string', default: '10000' },
    imports: { type: 'string', default: '10000' },
    browser: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
  },
});
const seed = Number(values.seed);

const t0 = performance.now();
const cli = await fuzzCli(seed, Number(values.cli), (i) => {
  if ((i + 1) % 1000 === 0) process.stderr.write(`  cli ${i + 1}\n`);
});
const cliSec = (performance.now() - t0) / 1000;
console.log(`CLI: ${cli.cases} cases in ${cliSec.toFixed(0)} s: ${JSON.stringify(cli.counts)}`);
const groups = new Map<string, { count: number; example: string }>();
for (const f of cli.findings) {
  const key = `${f.outcome}: ${f.detail
    .split('\n')[0]
    ?.replace(/\/tmp\/\S*/g, 'FILE')
    .replace(/'--?[a-z-]+'/g, "'--OPTION'")
    .replace(/"[^"]*"/g, '"…"')
    .slice(0, 120)}`;
  const g = groups.get(key) ?? { count: 0, example: f.argv.join(' ') };
  g.count++;
  groups.set(key, g);
}
for (const [k, g] of [...groups].sort((a, b) => b[1].count - a[1].count)) console.log(`  ${g.count} × ${k}`);

const map = new Map<string, StoredRecord>();
for (const r of validRecords('stored')) map.set(r.id, r);
const mem = {
  get: (id: string) => Promise.resolve(map.get(id)),
  list: (k?: string) => Promise.resolve([...map.values()].filter((r) => k === undefined || r.kind === k)),
  putAll: (rs: readonly StoredRecord[]) => {
    for (const r of rs) map.set(r.id, structuredClone(r));
    return Promise.resolve();
  },
  count: () => Promise.resolve(map.size),
};
const t1 = performance.now();
const importCounts: Record<ImportOutcome, number> = {
  rejected: 0,
  imported: 0,
  thrown: 0,
  'count-changed': 0,
  'count-wrong': 0,
};
const importFindings: string[] = [];
const nImports = Number(values.imports);
for (const c of importCases(seed, nImports)) {
  const r = await runImportCase(c, mem);
  importCounts[r.outcome]++;
  if (r.outcome !== 'rejected' && r.outcome !== 'imported') importFindings.push(r.detail);
}
const importSec = (performance.now() - t1) / 1000;
console.log(`Imports (memory store): ${nImports} cases in ${importSec.toFixed(0)} s: ${JSON.stringify(importCounts)}`);

let browser: unknown = null;
if (Number(values.browser) > 0) {
  const r = spawnSync('npx', ['vitest', 'run', '--project', 'browser', 'test/browser/fuzz-import.test.ts'], {
    env: { ...process.env, VITE_FUZZ_RUNS: values.browser },
    encoding: 'utf8',
    timeout: 900_000,
  });
  const m = /FUZZ-IMPORT-COUNTS (\{.*\})/.exec(`${r.stdout}${r.stderr}`);
  browser = m
    ? { ...(JSON.parse(m[1] as string) as object), passed: r.status === 0 }
    : { error: `no counts (exit ${r.status})` };
  console.log(`Imports (Chromium, IndexedDB): ${JSON.stringify(browser)}`);
}

mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/fuzz.json',
  JSON.stringify(
    {
      date: new Date().toISOString(),
      seed,
      cli: {
        cases: cli.cases,
        seconds: Math.round(cliSec),
        counts: cli.counts,
        findings: [...groups].map(([k, g]) => ({ finding: k, count: g.count, example: g.example })),
      },
      imports: {
        cases: nImports,
        seconds: Math.round(importSec),
        counts: importCounts,
        findings: importFindings.slice(0, 50),
      },
      importsChromium: browser,
    },
    null,
    1,
  ) + '\n',
);
console.log('wrote bench/results/fuzz.json');
