/**
 * App benchmark: `npm run bench` (tsx bench/app.ts [--requests=N] [--out=FILE]).
 *
 * Builds the production app, serves it with `vite preview` on localhost and drives
 * the system Chromium (headless, WebGPU on) through the same app code a user runs:
 *  1. the production bundle's initial JS (entry + modulepreloads), gzipped;
 *  2. navigation → interactive shell time (performance mark set by the shell), median of 5 loads;
 *  3. device detection (Device view);
 *  4. the paper's LMSYS experiment, λ = 50 /s, 10,000 requests, every PAPER_POLICIES
 *     policy, run from the Experiment view on the CPU engine (Web Worker), with the
 *     longest main-thread task during the run (PerformanceObserver 'longtask');
 *  5. a quick calibration from the Calibrate view, when this build has the module.
 * Prints the tables and writes bench/results/app.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Page } from 'playwright';
import { PAPER_POLICIES } from '../src/policies/registry.ts';
import { buildApp, launch, ROOT, serve } from '../test/e2e/harness.ts';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k ?? '', v ?? 'true'];
  }),
);
const REQUESTS = Number(args.get('requests') ?? 10_000);
const OUT = path.resolve(ROOT, args.get('out') ?? 'bench/results/app.json');

function initialJs(dist: string): { files: { file: string; bytes: number; gzip: number }[]; gzipTotal: number } {
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  const refs = new Set<string>();
  for (const m of html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)) if (m[1]) refs.add(m[1]);
  for (const m of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)) if (m[1]) refs.add(m[1]);
  const files = [...refs].map((ref) => {
    const buf = fs.readFileSync(path.join(dist, ref.replace(/^\.?\//, '')));
    return { file: ref, bytes: buf.length, gzip: zlib.gzipSync(buf, { level: 9 }).length };
  });
  return { files, gzipTotal: files.reduce((s, f) => s + f.gzip, 0) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? Number.NaN;
}

async function scrapeTable(page: Page): Promise<Record<string, Record<string, number>>> {
  const rows = page.locator('kv-results-table [data-testid=results] tbody tr');
  const out: Record<string, Record<string, number>> = {};
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    const policy = (await row.getAttribute('data-policy')) ?? `row ${i}`;
    const cells = row.locator('td[data-key]');
    const rec: Record<string, number> = {};
    for (let j = 0; j < (await cells.count()); j++) {
      const c = cells.nth(j);
      rec[(await c.getAttribute('data-key')) ?? `c${j}`] = Number(await c.getAttribute('data-value'));
    }
    out[policy] = rec;
  }
  return out;
}

function printTable(header: string[], rows: string[][]): void {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i] ?? 0) : c.padStart(w[i] ?? 0))).join('  ');
  console.log(line(header));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvsched-bench-'));
const dist = path.join(tmp, 'dist');
console.log('building the app…');
await buildApp(dist);
const bundle = initialJs(dist);
const served = await serve(dist);
const browser = await launch(true);
try {
  // 2. Shell time.
  const shellMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(served.url + '#/device');
    await p.waitForFunction(() => performance.getEntriesByName('kvsched:shell-interactive').length > 0);
    shellMs.push(
      await p.evaluate(() => performance.getEntriesByName('kvsched:shell-interactive')[0]?.startTime ?? Number.NaN),
    );
    await ctx.close();
  }

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.addInitScript(() => {
    const w = window as unknown as { __longtasks: { start: number; duration: number }[] };
    w.__longtasks = [];
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longtasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    } catch {
      // no longtask support
    }
  });
  const page = await ctx.newPage();

  // 3. Device.
  await page.goto(served.url + '#/device');
  await page.locator('[data-testid=webgpu-status]').waitFor({ timeout: 30_000 });
  const device = await page.evaluate(() => {
    const view = document.querySelector('kv-app')?.shadowRoot?.querySelector('kv-device-view')?.shadowRoot;
    const rows: Record<string, string> = {};
    view?.querySelectorAll('section.card:first-child tr').forEach((tr) => {
      const k = tr.querySelector('th')?.textContent?.trim();
      const v = tr.querySelector('td')?.textContent?.trim();
      if (k && v) rows[k] = v;
    });
    return { status: view?.querySelector('[data-testid=webgpu-status]')?.textContent?.trim() ?? '', adapter: rows };
  });

  // 4. The paper's LMSYS experiment.
  const pol = PAPER_POLICIES.join(',');
  await page.goto(`${served.url}#/experiment?preset=lmsys-high&n=${REQUESTS}&pol=${pol}`);
  await page.locator('[data-testid=run]').waitFor();
  const t0 = await page.evaluate(() => performance.now());
  const wall0 = Date.now();
  await page.locator('[data-testid=run]').click();
  await page.locator('kv-experiment-view[data-state=done]').waitFor({ timeout: 600_000 });
  // The latency CDF and the bar chart; with more than three policies the KV charts are small
  // multiples that draw only when scrolled into view.
  await page.locator('kv-result-charts kv-chart[data-drawn]').nth(1).waitFor();
  await page.waitForTimeout(300);
  const runWallMs = Date.now() - wall0;
  const t1 = await page.evaluate(() => performance.now());
  const longtasks = await page.evaluate(
    ([a, b]) =>
      (window as unknown as { __longtasks: { start: number; duration: number }[] }).__longtasks.filter(
        (t) => t.start >= (a as number) && t.start <= (b as number),
      ),
    [t0, t1],
  );
  const longest = longtasks.reduce((m, t) => Math.max(m, t.duration), 0);
  const table = await scrapeTable(page);
  fs.mkdirSync(path.join(ROOT, 'bench/results/screenshots'), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, 'bench/results/screenshots/bench-experiment.png'), fullPage: true });

  // 5. Quick calibration, when the module is in the build.
  await page.goto(served.url + '#/calibrate');
  const status = page.locator('kv-calibrate-view [data-testid=calibration-status]');
  await status.waitFor();
  let calibration: Record<string, unknown> = { available: false, note: (await status.textContent())?.trim() ?? '' };
  const start = page.locator('kv-calibrate-view [data-testid=calibrate-run]');
  if ((await start.count()) > 0) {
    const c0 = Date.now();
    await start.click();
    await page
      .locator('kv-calibrate-view[data-state=done], kv-calibrate-view[data-state=error]')
      .waitFor({ timeout: 300_000 });
    const result =
      (await page.locator('kv-calibrate-view [data-testid=calibration-result]').count()) > 0
        ? await page
            .locator('kv-calibrate-view kv-profile-table tbody tr')
            .evaluateAll((trs) =>
              trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent?.trim() ?? '').join(' | ')),
            )
        : null;
    await page.screenshot({ path: path.join(ROOT, 'bench/results/screenshots/bench-calibrate.png'), fullPage: true });
    await page.goto(served.url + '#/compare');
    await page
      .locator('kv-compare-view [data-testid=profiles]')
      .waitFor({ timeout: 10_000 })
      .catch(() => undefined);
    await page.screenshot({ path: path.join(ROOT, 'bench/results/screenshots/bench-compare.png'), fullPage: true });
    const error = await page
      .locator('kv-calibrate-view [data-testid=calibration-error]')
      .textContent()
      .catch(() => null);
    calibration = { available: true, preset: 'quick', wallMs: Date.now() - c0, result, error: error?.trim() ?? null };
  }

  // Report.
  console.log(`\nkvsched app benchmark (${new Date().toISOString()})`);
  console.log(`device: ${device.status}`);
  for (const [k, v] of Object.entries(device.adapter)) console.log(`  ${k}: ${v}`);
  console.log(
    `\ninitial JS (gzip -9): ${(bundle.gzipTotal / 1024).toFixed(1)} KiB in ${bundle.files.length} file(s) (limit 150 KB)`,
  );
  console.log(
    `shell interactive after navigation: median ${median(shellMs).toFixed(1)} ms (${shellMs.map((x) => x.toFixed(0)).join(', ')})`,
  );
  console.log(
    `\nLMSYS λ = 50 /s, ${REQUESTS} requests, seconds mode, A100 reference cost model (CPU engine in a Web Worker):`,
  );
  printTable(
    ['policy', 'mean (s)', 'p50', 'p90', 'p99', 'TTFT (s)', 'tok/s', 'evictions', 'peak KV', 'energy (kJ)'],
    Object.entries(table).map(([p, r]) => [
      p,
      (r.meanLatency ?? NaN).toFixed(3),
      (r.p50Latency ?? NaN).toFixed(3),
      (r.p90Latency ?? NaN).toFixed(3),
      (r.p99Latency ?? NaN).toFixed(3),
      (r.meanTtft ?? NaN).toFixed(3),
      (r.throughput ?? NaN).toFixed(1),
      String(r.evictions),
      String(r.peakKv),
      ((r.energyJoules ?? NaN) / 1000).toFixed(1),
    ]),
  );
  console.log(`run wall time (click → table and charts): ${(runWallMs / 1000).toFixed(2)} s`);
  console.log(
    `main thread during the run: ${longtasks.length} long task(s) > 50 ms, longest ${longest.toFixed(0)} ms (target ≤ 100 ms)`,
  );
  console.log('\ncalibration (quick preset, Calibrate view):');
  if (Array.isArray(calibration.result)) for (const r of calibration.result as string[]) console.log(`  ${r}`);
  else console.log(`  ${JSON.stringify(calibration)}`);

  const out = {
    schema: 'kvsched.bench-app/1',
    date: new Date().toISOString(),
    browser: { executable: process.env.CHROMIUM_PATH || '/usr/bin/chromium', version: browser.version() },
    device,
    bundle: { initialJsGzipBytes: bundle.gzipTotal, files: bundle.files, limitBytes: 150 * 1024 },
    shell: { medianMs: median(shellMs), samplesMs: shellMs },
    experiment: { workload: 'lmsys', rate: 50, requests: REQUESTS, policies: PAPER_POLICIES, runWallMs, table },
    mainThread: { longTasks: longtasks, longestTaskMs: longest },
    calibration,
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(ROOT, OUT)}`);
} finally {
  await browser.close();
  await served.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
