/**
 * End-to-end tests of the built app in headless system Chromium (playwright driving
 * `vite preview` on a free localhost port): an experiment through the UI matches the
 * CPU engine, runs persist in History, bundles export/import, a corrupt import
 * changes nothing, and the no-WebGPU path still runs experiments. Saves a screenshot
 * of each view under bench/results/screenshots/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/metrics/summary.ts';
import { expectedSummaries, type Reference } from '../e2e/expected.ts';
import { sampleProfile } from './helpers/profile.ts';
import { buildApp, launch, serve, type Served } from '../e2e/harness.ts';
import { putRecord, shot } from '../e2e/page.ts';

const T = 60_000;

let tmp: string;
let served: Served;
let browser: Browser;
let page: Page;

const REF: Reference = {
  workload: { kind: 'lmsys', requests: 400, rate: 20 },
  mode: 'seconds',
  seed: 7,
  predict: 'noise:0.2',
  policies: ['mcsf', 'alpha-clearing:0.1:0.2', 'vllm'],
};
const REF_URL = '#/experiment?preset=lmsys&rate=20&n=400&pred=noise%3A0.2&pol=mcsf,alpha-clearing:0.1:0.2,vllm';

const KEYS: (keyof RunSummary)[] = [
  'meanLatency',
  'p50Latency',
  'p90Latency',
  'p99Latency',
  'meanTtft',
  'p99Ttft',
  'throughput',
  'evictions',
  'peakKv',
  'energyJoules',
];

interface StoredRow {
  id: string;
  kind: string;
  createdAt: number;
  title: string;
  data: unknown;
}

function readRecords(p: Page): Promise<StoredRow[]> {
  return p.evaluate(
    () =>
      new Promise<StoredRow[]>((resolve, reject) => {
        const open = indexedDB.open('kvsched');
        open.onerror = () => reject(open.error ?? new Error('open failed'));
        open.onsuccess = () => {
          const db = open.result;
          const req = db.transaction('records', 'readonly').objectStore('records').getAll();
          req.onsuccess = () => {
            db.close();
            resolve((req.result as StoredRow[]).sort((a, b) => (a.id < b.id ? -1 : 1)));
          };
          req.onerror = () => reject(req.error ?? new Error('getAll failed'));
        };
      }),
  );
}

/** Runs the reference configuration through the UI and checks the table against the engine. */
async function runAndCheck(p: Page, url: string, expected: Map<string, RunSummary>, route = REF_URL): Promise<void> {
  await p.goto(url + route);
  // Set the seed through the form (the link has the default seed 1).
  const seed = p.locator('kv-config-form input[name=seed]');
  await seed.fill(String(REF.seed));
  await seed.dispatchEvent('change');
  await expect.poll(() => p.evaluate(() => location.hash)).toContain('seed=7');
  await p.locator('[data-testid=run]').click();
  await p.locator('kv-experiment-view[data-state=done]').waitFor({ timeout: T });
  await p.locator('[data-testid=save-status]').waitFor();
  expect(await p.locator('[data-testid=save-status]').textContent()).toContain('Saved to History');
  for (const [policy, s] of expected) {
    const row = p.locator(`kv-results-table tr[data-policy="${policy}"]`);
    for (const key of KEYS) {
      const cell = row.locator(`td[data-key=${key}]`);
      const got = Number(await cell.getAttribute('data-value'));
      const want = s[key];
      if (Number.isInteger(want)) expect(got, `${policy} ${key}`).toBe(want);
      else
        expect(Math.abs(got - want), `${policy} ${key}: ${got} vs ${want}`).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(want)),
        );
    }
    const shown = (await row.locator('td[data-key=meanLatency]').textContent())?.trim();
    expect(shown).toBe(s.meanLatency.toLocaleString('en-US', { minimumFractionDigits: 3, maximumFractionDigits: 3 }));
  }
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvsched-e2e-'));
  await buildApp(path.join(tmp, 'dist'));
  served = await serve(path.join(tmp, 'dist'));
  browser = await launch(true);
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('app (Chromium with WebGPU)', () => {
  const expected = expectedSummaries(REF);

  it(
    'shows the WebGPU adapter on the Device view',
    async () => {
      await page.goto(served.url + '#/device');
      const status = page.locator('[data-testid=webgpu-status]');
      await status.waitFor({ timeout: T });
      expect(await status.textContent()).toContain('WebGPU available');
      expect(await page.locator('[data-testid=limits] tbody tr').count()).toBeGreaterThan(10);
      await shot(page, 'device');
    },
    T,
  );

  it(
    'runs an experiment in the worker and shows the CPU engine’s numbers',
    async () => {
      await runAndCheck(page, served.url, expected);
      await page.locator('kv-result-charts kv-chart').first().waitFor();
      // Latency CDF, TBT CDF, KV over time, mean latency.
      expect(await page.locator('kv-result-charts kv-chart').count()).toBe(4);
      await shot(page, 'experiment');
    },
    T,
  );

  it(
    'keeps the run across a reload (History)',
    async () => {
      await page.reload();
      await page.goto(served.url + '#/history');
      const rows = page.locator('[data-testid=history] tbody tr[data-kind=run]');
      await rows.first().waitFor({ timeout: T });
      expect(await rows.count()).toBe(1);
      expect(await rows.first().textContent()).toContain('LMSYS λ=20, 400 req, 3 policies, seed 7');
      // Open it again: the stored results come back.
      await rows.first().getByRole('button', { name: 'Open' }).click();
      await page.locator('kv-results-table [data-testid=results] tr[data-policy=mcsf]').waitFor();
      const mean = Number(
        await page.locator('kv-results-table tr[data-policy=mcsf] td[data-key=meanLatency]').getAttribute('data-value'),
      );
      expect(mean).toBeCloseTo(expected.get('mcsf')?.meanLatency ?? Number.NaN, 9);
      await page.goto(served.url + '#/history');
      await rows.first().waitFor();
      await shot(page, 'history');
    },
    T,
  );

  it(
    'exports a bundle, clears storage, imports it: the same records',
    async () => {
      const before = await readRecords(page);
      expect(before.length).toBe(1);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.locator('[data-testid=export-all]').click(),
      ]);
      const file = path.join(tmp, 'bundle.json');
      await download.saveAs(file);
      const bundle = JSON.parse(fs.readFileSync(file, 'utf8')) as { schema: string; records: unknown[] };
      expect(bundle.schema).toBe('kvsched.bundle/1');
      expect(bundle.records.length).toBe(1);

      await page.locator('[data-testid=clear]').click();
      await page.locator('[data-testid=confirm-clear]').click();
      await page.locator('[data-testid=history-empty]').waitFor();
      expect(await readRecords(page)).toEqual([]);

      await page.locator('[data-testid=import]').setInputFiles(file);
      await page.locator('[data-testid=history-status]').waitFor();
      expect(await page.locator('[data-testid=history-status]').textContent()).toContain('Imported 1 record');
      expect(await readRecords(page)).toEqual(before);
    },
    T,
  );

  it(
    'rejects a corrupt bundle and changes nothing',
    async () => {
      const before = await readRecords(page);
      const bad = path.join(tmp, 'corrupt.json');
      fs.writeFileSync(
        bad,
        JSON.stringify({
          schema: 'kvsched.bundle/1',
          exportedAt: 'now',
          records: [{ id: 'x', kind: 'run', createdAt: 1, title: 't', data: { type: 'experiment' } }],
        }),
      );
      await page.locator('[data-testid=import]').setInputFiles(bad);
      const err = page.locator('[data-testid=history-error]');
      await err.waitFor();
      expect(await err.textContent()).toMatch(
        /Nothing was imported\. corrupt\.json is not a valid kvsched bundle: records\[0\] \(id "x"\)\.data/,
      );
      expect(await readRecords(page)).toEqual(before);

      const notJson = path.join(tmp, 'truncated.json');
      fs.writeFileSync(notJson, fs.readFileSync(path.join(tmp, 'bundle.json'), 'utf8').slice(0, 100));
      await page.locator('[data-testid=import]').setInputFiles(notJson);
      await expect.poll(() => err.textContent()).toContain('truncated.json is not JSON');
      expect(await readRecords(page)).toEqual(before);
      await shot(page, 'history-import-error');
    },
    T,
  );

  it(
    'runs the same experiment on the GPU engine (in the worker): the CPU engine’s numbers',
    async () => {
      await runAndCheck(page, served.url, expected, REF_URL + '&eng=gpu');
      expect(await page.locator('kv-config-form select[name=engine]').inputValue()).toBe('gpu');
      expect(await page.locator('[data-testid=engine-note]').textContent()).toContain('GPU engine in the worker');
      await page.locator('[data-testid=kv-chart-na]').waitFor();
      expect(await page.locator('[data-testid=kv-chart-na]').textContent()).toContain(
        'Not available with the GPU engine',
      );
      await shot(page, 'experiment-gpu');
    },
    T,
  );

  it(
    'says plainly when the GPU engine refuses (no CPU fallback)',
    async () => {
      // Seconds mode on the GPU needs M ≤ 65 535.
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=50&mem=70000&pol=mcsf&eng=gpu');
      await page.locator('[data-testid=run]').click();
      await page.locator('kv-experiment-view[data-state=error]').waitFor({ timeout: T });
      const err = (await page.locator('[data-testid=run-error]').textContent()) ?? '';
      expect(err).toContain('The GPU engine refused');
      expect(err).toContain('M ≤ 65535');
    },
    T,
  );

  it(
    'solves the hindsight optimum of a paper-synthetic instance',
    async () => {
      const ref: Reference = {
        workload: { kind: 'paper-synthetic', arrivals: 'zero', requests: 12 },
        mode: 'rounds',
        seed: 3,
        predict: 'exact',
        policies: ['mcsf', 'mc-fcfs'],
      };
      const totals = expectedSummaries(ref);
      await page.goto(served.url + '#/experiment?preset=synthetic-zero&sn=12&seed=3&pol=mcsf,mc-fcfs');
      await page.locator('[data-testid=optimum-run]').click();
      const box = page.locator('[data-testid=optimum]');
      await box.waitFor({ timeout: 30_000 });
      const status = await box.getAttribute('data-status');
      expect(['optimal', 'time-limit']).toContain(status);
      const objective = Number(await box.getAttribute('data-objective'));
      const lower = Number(await box.getAttribute('data-lower-bound'));
      expect(lower).toBeLessThanOrEqual(objective);
      if (status === 'optimal') expect(lower).toBe(objective);
      expect(Number(await box.locator('[data-testid=optimum-local-search]').textContent())).toBeGreaterThanOrEqual(
        objective,
      );
      for (const [policy, s] of totals) {
        const total = Math.round(s.meanLatency * 12);
        expect(total).toBeGreaterThanOrEqual(objective);
        const ratio = Number(
          await box.locator(`tr[data-policy="${policy}"] td[data-key=ratio]`).getAttribute('data-value'),
        );
        expect(ratio).toBeCloseTo(total / objective, 12);
      }
      await shot(page, 'experiment-optimum');
      // A 60-request instance takes longer: cancel it.
      await page.goto(served.url + '#/experiment?preset=synthetic-poisson&sn=60&seed=5');
      await page.locator('[data-testid=optimum-run]').click();
      await page.locator('[data-testid=optimum-running]').waitFor();
      await page.locator('[data-testid=optimum-cancel]').click();
      await page.locator('[data-testid=optimum-cancelled], [data-testid=optimum]').first().waitFor({ timeout: 15_000 });
      expect(await page.locator('[data-testid=run]').isDisabled()).toBe(false);
    },
    T,
  );

  it(
    'shows the Calibrate and Compare views (with a stored profile: verdict, intervals, chart, export, comparison run)',
    async () => {
      // A stored profile (as a calibration or a History import leaves it), written straight into IndexedDB.
      const profile = sampleProfile();
      // Written only once the app has created its database (opening it first would create it without stores).
      const put = async (rec: StoredRow) => {
        await expect
          .poll(() => page.evaluate(async () => (await indexedDB.databases()).some((d) => d.name === 'kvsched')), {
            timeout: T,
          })
          .toBe(true);
        await putRecord(page, rec);
      };
      await page.goto(served.url + '#/calibrate');
      await put({
        id: 'profile-e2e',
        kind: 'profile',
        createdAt: Date.now(),
        title: 'SwiftShader (quick)',
        data: profile,
      });
      await page.reload();
      await page.locator('kv-calibrate-view [data-testid=calibration-status]').waitFor();
      await page.locator('kv-calibrate-view kv-chart[data-testid=fit-chart][data-drawn=true]').waitFor({ timeout: T });
      expect(await page.locator('kv-calibrate-view kv-chart[data-testid=fit-chart] canvas').count()).toBe(1);
      expect(await page.locator('kv-calibrate-view [data-testid=profile-verdict]').getAttribute('data-verdict')).toBe(
        'good',
      );
      expect(await page.locator('kv-calibrate-view [data-testid=typical-round]').textContent()).toMatch(
        /\[[\d.,]+ – [\d.,]+\]/,
      );
      expect(await page.locator('kv-calibrate-view [data-testid=replay]').textContent()).toMatch(/error \+4\.0 %/);
      expect(await page.locator('kv-calibrate-view [data-testid=kernel-efficiency] tbody tr').count()).toBe(3);
      expect(await page.locator('kv-calibrate-view kv-profile-table table').textContent()).toContain(
        'google / swiftshader / SwiftShader',
      );
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.locator('[data-testid=profile-export]').click(),
      ]);
      expect(download.suggestedFilename()).toBe('kvsched-profile-google-swiftshader-SwiftShader.json');
      const file = path.join(tmp, 'profile.json');
      await download.saveAs(file);
      // The export is the same document `kvsched calibrate --out` writes (serializeProfile).
      const { serializeProfile } = await import('../../src/calibrate/profile.ts');
      expect(fs.readFileSync(file, 'utf8')).toBe(serializeProfile(profile));
      await shot(page, 'calibrate');

      // An unusable profile, stored later: labelled in Calibrate, Compare, the cost-model picker and History.
      // Its per-token term fitted to zero: Compare draws a "0" marker for it, not a missing bar.
      const bad = {
        ...sampleProfile(),
        quality: { ...profile.quality, verdict: 'unusable' as const, reasons: ['held-out R² 0.08'] },
        reference: { ...profile.reference, ratios: { ...profile.reference.ratios, perTokenMicros: 0 } },
      };
      await put({
        id: 'profile-bad',
        kind: 'profile',
        createdAt: Date.now() + 1,
        title: 'Bad device (quick)',
        data: bad,
      });
      await page.reload();
      await expect
        .poll(() => page.locator('kv-calibrate-view [data-testid=profile-verdict]').getAttribute('data-verdict'), {
          timeout: T,
        })
        .toBe('unusable');
      expect(await page.locator('kv-calibrate-view [data-testid=profile-verdict]').textContent()).toContain(
        'held-out R² 0.08',
      );

      await page.goto(served.url + '#/compare');
      await page.locator('kv-compare-view h2').waitFor();
      const bars = page.locator('kv-compare-view kv-ratio-bars svg[data-testid=ratio-bars]');
      await bars.waitFor({ timeout: T });
      // Error bars: each drawn bar has its interval (4 ratio terms × 2 profiles, one of them fitted to zero).
      expect(await bars.locator('g[data-lo]:not([data-lo=""])').count()).toBe(7);
      expect(await bars.locator('g[data-zero=true]').count()).toBe(1);
      // The per-request terms: the A100 model has none, so no ratio — "n/a" markers (2 terms × 2 profiles)
      // and each group labelled "not in the A100 model", not a missing bar.
      expect(await bars.locator('g[data-no-ratio=reference]').count()).toBe(4);
      expect(await bars.locator('[data-no-ratio-label]').count()).toBe(2);
      expect(await bars.locator('[data-no-ratio-label]').first().textContent()).toBe('not in the A100 model');
      expect(await page.locator('kv-compare-view [data-testid=unusable-warning]').textContent()).toContain(
        'Bad device (quick)',
      );
      await page.locator('[data-testid=compare-run]').click();
      const rows = page.locator('[data-testid=compare-results] tbody tr');
      await expect.poll(() => rows.count(), { timeout: 2 * T }).toBe(3);
      await page.locator('[data-testid=compare-running]').waitFor({ state: 'detached' });
      expect(await rows.nth(0).getAttribute('data-cost-model')).toBe('a100-llama2-70b-tp2');
      const models = [
        await rows.nth(1).getAttribute('data-cost-model'),
        await rows.nth(2).getAttribute('data-cost-model'),
      ];
      expect(models.sort()).toEqual(['profile:profile-bad', 'profile:profile-e2e']);
      expect(await page.locator('[data-testid=compare-results]').textContent()).toMatch(
        /Bad device \(quick\)[^[]*\[unusable/,
      );
      for (let i = 0; i < 3; i++)
        expect(
          Number(await rows.nth(i).locator('td[data-key=meanLatency]').getAttribute('data-value')),
        ).toBeGreaterThan(0);
      await shot(page, 'compare');

      await page.goto(served.url + '#/experiment');
      const option = page.locator('option[value="profile:profile-bad"]');
      await option.waitFor({ state: 'attached', timeout: T });
      expect(await option.textContent()).toMatch(/UNUSABLE/);
      expect(await page.locator('option[value="profile:profile-e2e"]').textContent()).toMatch(/\(good\)/);
      await page.goto(served.url + '#/history');
      await page.locator('[data-verdict=unusable]').first().waitFor({ timeout: T });
      expect(await page.locator('[data-verdict=unusable]').first().textContent()).toContain('held-out R² 0.08');
    },
    4 * T,
  );
});

describe('app without WebGPU', () => {
  it(
    'says so and still runs experiments on the CPU engine',
    async () => {
      const b = await launch(false);
      try {
        const p = await b.newPage({ viewport: { width: 1280, height: 900 } });
        await p.goto(served.url + '#/device');
        await p.locator('[data-testid=webgpu-status]').waitFor({ timeout: T });
        expect(await p.locator('[data-testid=webgpu-status]').textContent()).toContain('WebGPU unavailable');
        // The Device view says it once: no banner repeating the same sentence above it.
        expect(await p.locator('[data-testid=no-webgpu]').count()).toBe(0);
        await shot(p, 'device-no-webgpu');
        await p.goto(served.url + '#/experiment');
        const banner = p.locator('[data-testid=no-webgpu]');
        await banner.waitFor({ timeout: T });
        expect(await banner.textContent()).toContain('WebGPU is not available');
        const gpuOption = p.locator('kv-config-form select[name=engine] option[value=gpu]');
        await gpuOption.waitFor({ state: 'attached', timeout: T });
        expect(await gpuOption.isDisabled()).toBe(true);
        expect(await p.locator('[data-testid=gpu-unavailable]').textContent()).toContain('GPU engine unavailable');
        await runAndCheck(p, served.url, expectedSummaries(REF));
        await shot(p, 'experiment-no-webgpu');
      } finally {
        await b.close();
      }
    },
    T,
  );
});
