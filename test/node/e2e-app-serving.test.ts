/**
 * End-to-end tests of the app's serving features (issue 15 §5–8): the serving line-up
 * preset and the new policies' parameters, token-level metrics and the TBT CDF, SLO input
 * and attainment, replicas behind a router (and the GPU engine's refusal), the capacity
 * panel, stored runs from before these features, and axe-core on the views touched.
 * Numbers shown are checked against the worker's own runner called here in Node (the same
 * domain code). Headless system Chromium on the built app; screenshots under
 * bench/results/screenshots/ (not committed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuReplicaRefusal } from '../../src/gpu-engine/replica-support.ts';
import { parseSlo } from '../../src/metrics/slo.ts';
import { SERVING_POLICIES } from '../../src/policies/registry.ts';
import type { ExperimentResult, PolicyRun, RunConfig } from '../../src/worker/protocol.ts';
import { runCapacity, runExperiment } from '../../src/worker/runner.ts';
import { buildApp, launch, serve, type Served } from '../e2e/harness.ts';
import { SHOTS, audit, putRecord, shot, type } from '../e2e/page.ts';
import { sampleProfile } from './helpers/profile.ts';

const T = 90_000;

let tmp: string;
let served: Served;
let browser: Browser;
let page: Page;

type OkRun = Extract<PolicyRun, { ok: true }>;

async function runAndWait(p: Page): Promise<void> {
  await p.locator('[data-testid=run]').click();
  await p.locator('kv-experiment-view[data-state=done]').waitFor({ timeout: T });
  await p.locator('[data-testid=save-status]').waitFor();
}

/** The worker's result for a run, computed here with the same runner. */
function reference(config: RunConfig): ExperimentResult {
  return runExperiment(config);
}

const LMSYS = (n: number, rate: number): RunConfig['workload'] => ({ kind: 'lmsys', requests: n, rate });
const BASE: Omit<RunConfig, 'policies' | 'workload'> = {
  mode: 'seconds',
  seed: 1,
  predict: 'exact',
  costModel: 'a100-llama2-70b-tp2',
};

function cellValue(p: Page, table: string, policy: string, key: string): Promise<string | null> {
  return p
    .locator(`kv-results-table [data-testid=${table}] tr[data-policy="${policy}"] td[data-key=${key}]`)
    .getAttribute('data-value');
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvsched-e2e-serving-'));
  await buildApp(path.join(tmp, 'dist'));
  served = await serve(path.join(tmp, 'dist'));
  browser = await launch(true);
  // CSP bypassed so that axe-core can be injected (the CSP itself: e2e-csp.test.ts).
  page = await browser.newPage({ viewport: { width: 1400, height: 900 }, bypassCSP: true });
  page.on('pageerror', (e) => console.error('page error:', e.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('serving line-up and token-level metrics', () => {
  it(
    'the preset lists the six policies; parameters follow the typed declarations; the token table matches the runner',
    async () => {
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=10&n=300&pol=mcsf');
      await page.locator('[data-testid=serving-lineup]').click();
      const rows = page.locator('kv-policy-list li');
      await expect.poll(() => rows.count()).toBe(SERVING_POLICIES.length);
      expect(await rows.evaluateAll((ls) => ls.map((l) => l.getAttribute('data-policy')))).toEqual(SERVING_POLICIES);
      // Sarathi's parameters, named and defaulted by its declaration.
      const sarathi = page.locator('kv-policy-list li[data-policy=sarathi]');
      expect(await sarathi.locator('label.param').allTextContents()).toEqual(
        expect.arrayContaining([expect.stringContaining('chunk'), expect.stringContaining('maxBatch')]),
      );
      expect(await sarathi.locator('input').first().getAttribute('placeholder')).toBe('512');
      await type(page, 'kv-policy-list li[data-policy=sarathi] input >> nth=0', '256');
      await page.locator('kv-policy-list li[data-policy="sarathi:256"]').waitFor();
      // A bad value is the registry's own message, and Run is disabled.
      await type(page, 'kv-policy-list li[data-policy="sarathi:256"] input >> nth=0', '0');
      await expect
        .poll(() => page.locator('kv-policy-list [data-testid=policy-error]').textContent())
        .toContain('sarathi: chunk "0" is not a positive integer');
      expect(await page.locator('[data-testid=run]').isDisabled()).toBe(true);
      await type(page, 'kv-policy-list li[data-policy="sarathi:0"] input >> nth=0', '');
      await page.locator('kv-policy-list li[data-policy=sarathi]').waitFor();
      expect(await page.evaluate(() => location.hash)).toContain(
        `pol=${encodeURIComponent(SERVING_POLICIES.join(','))}`,
      );
      await runAndWait(page);
      const ref = reference({ ...BASE, workload: LMSYS(300, 10), policies: SERVING_POLICIES });
      for (const run of ref.runs) {
        expect(run.ok).toBe(true);
        const s = (run as OkRun).summary;
        for (const key of ['p50Tbt', 'p99Tbt', 'maxTbt', 'meanTpot', 'meanNormLatency'] as const) {
          expect(Number(await cellValue(page, 'token-results', run.policy, key)), `${run.policy} ${key}`).toBe(s[key]);
          expect(Number.isFinite(s[key])).toBe(true);
        }
      }
      // Units in the headers, no NaN or n/a on the CPU engine.
      const head = await page.locator('kv-results-table [data-testid=token-results] thead').textContent();
      for (const h of ['TBT p50 (ms)', 'TBT p99 (ms)', 'max stall (ms)', 'mean TPOT (ms)', 'latency per token (ms)'])
        expect(head).toContain(h);
      const body = (await page.locator('kv-results-table [data-testid=token-results] tbody').textContent()) ?? '';
      expect(body).not.toMatch(/NaN|n\/a/);
      // The TBT CDF beside the latency CDF, one line per policy.
      const tbt = page.locator('kv-result-charts kv-chart[data-testid=tbt-chart]');
      await tbt.waitFor({ timeout: T });
      const box = await tbt.boundingBox();
      const cdf = await page.locator('kv-result-charts kv-chart[data-testid=cdf-chart]').boundingBox();
      expect(box && cdf && Math.abs(box.y - cdf.y) < 40).toBe(true);
      await shot(page, 'serving-lineup-results-1400');
      await page.locator('[data-testid=results-card]').screenshot({ path: path.join(SHOTS, 'token-table-1400.png') });
      await page.setViewportSize({ width: 800, height: 900 });
      await shot(page, 'serving-lineup-results-800');
      await page.locator('[data-testid=results-card]').screenshot({ path: path.join(SHOTS, 'token-table-800.png') });
      await page.locator('kv-config-form').screenshot({ path: path.join(SHOTS, 'serving-form-800.png') });
      await page.setViewportSize({ width: 1400, height: 900 });
    },
    T,
  );

  it(
    'a GPU-engine run (NaN TBT) and a run stored before token metrics both open: n/a with its reason, never NaN or 0',
    async () => {
      await page.goto(served.url + '#/history');
      await page.locator('[data-testid=history], [data-testid=history-empty]').first().waitFor({ timeout: T });
      const ref = reference({ ...BASE, workload: LMSYS(50, 10), policies: ['mcsf'] });
      const run = ref.runs[0] as OkRun;
      const config = {
        preset: 'lmsys',
        rate: 10,
        requests: 50,
        synthRequests: null,
        mode: 'seconds',
        memory: null,
        policies: ['mcsf'],
        predict: 'exact',
        costModel: 'a100-llama2-70b-tp2',
        engine: 'cpu',
        seed: 1,
        sweepRates: [10, 20],
        traceName: null,
      };
      const gpuSummary = { ...run.summary, p50Tbt: NaN, p90Tbt: NaN, p99Tbt: NaN, maxTbt: NaN };
      const { tbtCdf: _t, ...gpuRun } = run;
      await putRecord(page, {
        id: 'run-gpu-nan',
        kind: 'run',
        createdAt: Date.now(),
        title: 'GPU run with NaN TBT',
        data: {
          type: 'experiment',
          config: { ...config, engine: 'gpu' },
          result: {
            ...ref,
            engine: 'gpu',
            engineNote: 'GPU engine in the worker',
            runs: [{ ...gpuRun, summary: gpuSummary }],
          },
        },
      });
      // Stored before issue 15: no slo/replicas/router in the config, no token metrics in the summary.
      const old = Object.fromEntries(Object.entries(run.summary).filter(([k]) => !/Tbt|Tpot|NormLatency/.test(k)));
      await putRecord(page, {
        id: 'run-old',
        kind: 'run',
        createdAt: Date.now(),
        title: 'Old run',
        data: {
          type: 'experiment',
          config,
          result: { ...ref, runs: [{ policy: 'mcsf', ok: true, summary: old, cdf: run.cdf, kv: run.kv, wallMs: 1 }] },
        },
      });
      await page.goto(served.url + '#/experiment?run=run-gpu-nan');
      const tokens = page.locator('kv-results-table [data-testid=token-results]');
      await tokens.waitFor({ timeout: T });
      const row = (await tokens.locator('tbody tr[data-policy=mcsf]').textContent()) ?? '';
      expect(row).toContain('n/a');
      expect(row).not.toContain('NaN');
      expect(await tokens.locator('td[data-key=maxTbt]').textContent()).toBe('n/a');
      expect(await tokens.locator('td[data-key=meanTpot]').textContent()).not.toBe('n/a');
      expect(await page.locator('kv-results-table [data-testid=token-na-note]').textContent()).toContain(
        'the GPU engine records no per-token times',
      );
      await page.locator('kv-result-charts [data-testid=tbt-chart-na]').waitFor({ timeout: T });
      await shot(page, 'token-metrics-gpu-na-1400');

      await page.goto(served.url + '#/experiment?run=run-old');
      await page.reload();
      await page.locator('kv-results-table [data-testid=results] tr[data-policy=mcsf]').waitFor({ timeout: T });
      expect(await page.locator('[data-testid=run-error]').count()).toBe(0);
      expect(await page.locator('kv-results-table [data-testid=token-results] td[data-key=p99Tbt]').textContent()).toBe(
        '—',
      );
      expect(await page.locator('kv-config-form input[name=replicas]').inputValue()).toBe('1');
    },
    T,
  );
});

describe('SLO', () => {
  it(
    'validates the SLO with the CLI parser as typed, blocks the run, and shows the attainment the runner computes',
    async () => {
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=300&pol=mcsf,vllm,sarathi');
      const slo = 'kv-config-form input[name=slo]';
      const parserMessage = (t: string): string => {
        try {
          parseSlo(t);
          return '';
        } catch (e) {
          return (e as Error).message;
        }
      };
      for (const bad of ['ttft=2x', 'ttfb=2s', 'ttft=2s,ttft=3s', 'p101-ttft=1s']) {
        await page.locator(slo).fill(bad);
        await expect
          .poll(() => page.locator('kv-config-form [data-field=slo]').textContent())
          .toBe(`SLO: ${parserMessage(bad)}.`);
        expect(await page.locator('[data-testid=run]').isDisabled()).toBe(true);
        expect(await page.locator('[data-testid=run-blocked]').textContent()).toContain(parserMessage(bad));
      }
      await type(page, slo, 'ttft=0.5s, p99-tpot=200ms');
      await expect.poll(() => page.locator('kv-config-form [data-field=slo]').count()).toBe(0);
      expect(await page.locator('[data-testid=run]').isDisabled()).toBe(false);
      expect(decodeURIComponent(await page.evaluate(() => location.hash))).toContain('slo=ttft=0.5s,p99-tpot=200ms');
      await runAndWait(page);
      const ref = reference({
        ...BASE,
        workload: LMSYS(300, 20),
        policies: ['mcsf', 'vllm', 'sarathi'],
        slo: 'ttft=0.5s,p99-tpot=200ms',
      });
      for (const run of ref.runs as OkRun[]) {
        const a = run.slo?.attainment;
        expect(a).toBeGreaterThanOrEqual(0);
        expect(Number(await cellValue(page, 'token-results', run.policy, 'attainment'))).toBe(a);
        const met = await page
          .locator(
            `kv-results-table [data-testid=token-results] tr[data-policy="${run.policy}"] td[data-key=percentiles]`,
          )
          .getAttribute('data-met');
        expect(met).toBe(String(run.slo?.percentilesMet));
      }
      expect(await page.locator('kv-results-table [data-testid=token-results] thead').textContent()).toContain(
        'SLO attainment (%)',
      );
      // Changing the SLO marks the results stale.
      await type(page, slo, 'ttft=1s');
      await page.locator('[data-testid=stale-note]').waitFor();
      expect(await page.locator('[data-testid=stale-note]').textContent()).toContain(
        'SLO ttft=0.5s,p99-tpot=200ms → ttft=1s',
      );
      // Rounds mode has no seconds: the committed SLO is refused there, with the parser's message.
      await page.locator('kv-config-form select[name=mode]').selectOption('rounds');
      await expect
        .poll(() => page.locator('[data-testid=run-blocked]').textContent())
        .toContain('rounds mode counts time in rounds');
      await shot(page, 'slo-rounds-refused-1400');
    },
    T,
  );
});

describe('GPU engine (WebGPU in headless Chromium)', () => {
  it(
    'evaluates the SLO on the GPU schedule: TTFT attainment equals the CPU engine; a tbt term is n/a, explained',
    async () => {
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=10&n=150&pol=mcsf&eng=gpu&slo=ttft%3D0.3s');
      await page
        .locator('kv-config-form select[name=engine] option[value=gpu]:not([disabled])')
        .waitFor({ state: 'attached', timeout: T });
      await page.reload();
      await page
        .locator('kv-config-form select[name=engine] option[value=gpu]:not([disabled])')
        .waitFor({ state: 'attached', timeout: T });
      await runAndWait(page);
      expect(await page.locator('[data-testid=engine-note]').textContent()).toContain('GPU engine');
      const ref = reference({ ...BASE, workload: LMSYS(150, 10), policies: ['mcsf'], slo: 'ttft=0.3s' });
      const a = (ref.runs[0] as OkRun).slo?.attainment;
      expect(a).toBeGreaterThan(0);
      expect(a).toBeLessThan(1);
      expect(Number(await cellValue(page, 'token-results', 'mcsf', 'attainment'))).toBe(a);
      expect(await page.locator('kv-results-table [data-testid=token-results] td[data-key=maxTbt]').textContent()).toBe(
        'n/a',
      );
      await type(page, 'kv-config-form input[name=slo]', 'ttft=0.3s,tbt=0.5s');
      await runAndWait(page);
      expect(
        await page.locator('kv-results-table [data-testid=token-results] td[data-key=attainment]').textContent(),
      ).toBe('n/a');
      expect(await page.locator('kv-results-table [data-testid=token-na-note]').textContent()).toContain(
        'an SLO with a tbt term has no attainment there',
      );
      await shot(page, 'gpu-slo-na-1400');
      await page.locator('kv-config-form select[name=engine]').selectOption('cpu');
    },
    T * 2,
  );
});

describe('replicas and routers', () => {
  it(
    'runs K replicas behind the router with per-replica rows equal to the runner; the GPU engine refuses inline',
    async () => {
      await page.goto(
        served.url + '#/experiment?preset=lmsys&rate=20&n=400&pol=mcsf,orca&k=3&router=least-outstanding',
      );
      expect(await page.locator('kv-config-form input[name=replicas]').inputValue()).toBe('3');
      expect(await page.locator('kv-config-form select[name=router]').inputValue()).toBe('least-outstanding');
      await type(page, 'kv-config-form input[name=replicas]', '0');
      await expect
        .poll(() => page.locator('kv-config-form [data-field=replicas]').textContent())
        .toContain('Replicas K must be a whole number ≥ 1');
      expect(await page.locator('[data-testid=run]').isDisabled()).toBe(true);
      await type(page, 'kv-config-form input[name=replicas]', '3');
      await runAndWait(page);
      const ref = reference({
        ...BASE,
        workload: LMSYS(400, 20),
        policies: ['mcsf', 'orca'],
        replicas: { count: 3, router: 'least-outstanding' },
      });
      for (const run of ref.runs as OkRun[]) {
        expect(Number(await cellValue(page, 'results', run.policy, 'meanLatency'))).toBe(run.summary.meanLatency);
        const reps = page.locator(
          `kv-results-table [data-testid=results] tr[data-policy="${run.policy}"] ~ tr.replica`,
        );
        expect(await reps.count()).toBeGreaterThanOrEqual(3);
      }
      const mcsf = (ref.runs[0] as OkRun).replicas?.summaries ?? [];
      expect(mcsf.length).toBe(3);
      const shown = await page
        .locator('kv-results-table [data-testid=results] tbody tr')
        .evaluateAll((trs) =>
          trs.slice(1, 4).map((tr) => Number(tr.querySelector('td[data-key=meanLatency]')?.getAttribute('data-value'))),
        );
      expect(shown).toEqual(mcsf.map((s) => s.meanLatency));
      expect(mcsf.reduce((n, s) => n + s.requests, 0)).toBe(400);
      expect(await page.locator('kv-results-table [data-testid=replica-note]').textContent()).toContain(
        '3 replicas per policy behind the least-outstanding router',
      );
      await shot(page, 'replicas-results-1400');

      // GPU engine: the engine layer's refusal, beside the inputs and under Run.
      await page
        .locator('kv-config-form select[name=engine] option[value=gpu]:not([disabled])')
        .waitFor({ state: 'attached', timeout: T });
      await page.locator('kv-config-form select[name=engine]').selectOption('gpu');
      const refusal = gpuReplicaRefusal(3, 'least-outstanding') ?? '';
      expect(refusal).not.toBe('');
      await expect.poll(() => page.locator('kv-config-form [data-testid=gpu-refusal]').textContent()).toBe(refusal);
      expect(await page.locator('[data-testid=run]').isDisabled()).toBe(true);
      expect(await page.locator('[data-testid=run-blocked]').textContent()).toContain(refusal);
      await shot(page, 'replicas-gpu-refused-1400');
      // A state-free router runs on the GPU engine (the trace is split before the replicas run).
      await page.locator('kv-config-form select[name=router]').selectOption('round-robin');
      await expect.poll(() => page.locator('kv-config-form [data-testid=gpu-refusal]').count()).toBe(0);
      expect(await page.locator('[data-testid=run]').isDisabled()).toBe(false);
      await page.locator('kv-config-form select[name=engine]').selectOption('cpu');
    },
    T,
  );
});

describe('capacity panel', () => {
  it(
    'finds each policy capacity in the worker as the capacity code does, with probes, bracket, chart, cancel',
    async () => {
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=10&n=1000&pol=mcsf,vllm');
      const panel = page.locator('kv-capacity-panel');
      expect(await panel.locator('[data-testid=capacity-blocked]').textContent()).toContain('Enter an SLO');
      expect(await panel.locator('[data-testid=capacity-run]').isDisabled()).toBe(true);
      await type(page, 'kv-config-form input[name=slo]', 'ttft=1s');
      await type(page, 'kv-capacity-panel input[name=cap-attainment]', '1.5');
      await expect
        .poll(() => panel.locator('[data-testid=capacity-field-error]').textContent())
        .toContain('Target attainment must be a number > 0 and ≤ 1');
      expect(await panel.locator('[data-testid=capacity-run]').isDisabled()).toBe(true);
      await type(page, 'kv-capacity-panel input[name=cap-attainment]', '0.9');
      await type(page, 'kv-capacity-panel input[name=cap-requests]', '400');
      expect(await panel.locator('[data-testid=capacity-run]').isDisabled()).toBe(false);
      await panel.locator('[data-testid=capacity-run]').click();
      await page.locator('kv-capacity-panel[data-state=done]').waitFor({ timeout: T });
      const ref = runCapacity({
        base: { ...BASE, workload: LMSYS(400, 10), policies: ['mcsf', 'vllm'] },
        slo: 'ttft=1s',
        attainment: 0.9,
      });
      for (const p of ref.policies) {
        const row = panel.locator(`[data-testid=capacity-table] tr[data-policy="${p.policy}"]`);
        expect(Number(await row.locator('td[data-key=capacity]').getAttribute('data-value'))).toBe(p.capacity);
        expect(Number(await row.locator('td[data-key=probes]').getAttribute('data-value'))).toBe(p.probes.length);
        expect(p.capacity).toBeGreaterThan(0);
        expect(p.hi).not.toBeNull();
      }
      await panel.locator('kv-chart[data-testid=capacity-chart][data-drawn=true]').waitFor({ timeout: T });
      const [d] = await Promise.all([
        page.waitForEvent('download'),
        panel.locator('[data-testid=capacity-csv]').click(),
      ]);
      const csvFile = path.join(tmp, d.suggestedFilename());
      await d.saveAs(csvFile);
      const csv = fs.readFileSync(csvFile, 'utf8').trim().split('\n');
      expect(csv.length).toBe(1 + ref.policies.reduce((n, p) => n + p.probes.length, 0));
      await panel.scrollIntoViewIfNeeded();
      await shot(page, 'capacity-panel-1400');
      await panel.screenshot({ path: path.join(SHOTS, 'capacity-panel-only-1400.png') });
      await page.setViewportSize({ width: 800, height: 900 });
      await shot(page, 'capacity-panel-800');
      await panel.screenshot({ path: path.join(SHOTS, 'capacity-panel-only-800.png') });
      await page.setViewportSize({ width: 1400, height: 900 });
      // Stored in History; Open brings it back, with its inputs, not stale.
      await panel.locator('[data-testid=capacity-saved]').waitFor();
      expect(await panel.locator('[data-testid=capacity-saved]').textContent()).toContain('Saved to History');
      await page.goto(served.url + '#/history');
      const rec = page.locator('[data-testid=history] tbody tr', { hasText: 'Capacity under SLO ttft=1s' }).first();
      await rec.waitFor({ timeout: T });
      expect(await rec.textContent()).toContain(`mcsf ${ref.policies[0]?.capacity.toFixed(3)} req/s`);
      await rec.getByRole('button', { name: 'Open' }).click();
      await page.locator('kv-capacity-panel[data-state=done]').waitFor({ timeout: T });
      await expect.poll(() => panel.locator('[data-testid=capacity-saved]').textContent()).toContain('stored capacity');
      expect(await panel.locator('input[name=cap-requests]').inputValue()).toBe('400');
      expect(await panel.locator('[data-testid=capacity-result]').getAttribute('data-stale')).toBe('false');
      for (const p of ref.policies)
        expect(
          Number(
            await panel
              .locator(`[data-testid=capacity-table] tr[data-policy="${p.policy}"] td[data-key=capacity]`)
              .getAttribute('data-value'),
          ),
        ).toBe(p.capacity);
      // A changed SLO marks the capacities stale.
      await type(page, 'kv-config-form input[name=slo]', 'ttft=2s');
      await expect.poll(() => panel.locator('[data-testid=capacity-result]').getAttribute('data-stale')).toBe('true');
      // Cancel: a long search stops.
      await type(page, 'kv-capacity-panel input[name=cap-requests]', '200000');
      await panel.locator('[data-testid=capacity-run]').click();
      await panel.locator('[data-testid=capacity-progress]').waitFor({ timeout: T });
      await panel.locator('[data-testid=capacity-cancel]').click();
      await page.locator('kv-capacity-panel[data-state=cancelled]').waitFor({ timeout: T });
    },
    T * 2,
  );
});

describe('compare devices: capacity per cost model', () => {
  it(
    'finds the capacity under the SLO on the A100 model and on a stored profile, equal to the capacity code',
    async () => {
      await page.goto(served.url + '#/history');
      await page.locator('[data-testid=history], [data-testid=history-empty]').first().waitFor({ timeout: T });
      const profile = sampleProfile();
      await putRecord(page, {
        id: 'profile-cap',
        kind: 'profile',
        createdAt: Date.now(),
        title: 'Capacity device (quick)',
        data: profile,
      });
      await page.goto(served.url + '#/compare');
      const sec = page.locator('kv-compare-view [data-testid=compare-capacity]');
      await sec.waitFor({ timeout: T });
      await sec.locator('input[name=cap-slo]').fill('ttft=2x');
      await expect.poll(() => sec.locator('[data-field=slo]').textContent()).toContain('"ttft=2x" is not a term');
      expect(await sec.locator('[data-testid=compare-capacity-run]').isDisabled()).toBe(true);
      await sec.locator('input[name=cap-policy]').fill('sarathi:0');
      await expect.poll(() => sec.locator('[data-field=policy]').textContent()).toContain('not a positive integer');
      await sec.locator('input[name=cap-slo]').fill('ttft=1s');
      await sec.locator('input[name=cap-policy]').fill('sarathi');
      await sec.locator('input[name=cap-requests]').fill('300');
      await sec.locator('[data-testid=compare-capacity-run]').click();
      const rows = sec.locator('[data-testid=compare-capacity-results] tbody tr');
      await expect.poll(() => rows.count(), { timeout: T }).toBe(2);
      await expect.poll(() => sec.locator('[data-testid=compare-capacity-running]').count(), { timeout: T }).toBe(0);
      const base: RunConfig = {
        ...BASE,
        memory: 16492,
        workload: LMSYS(300, 10),
        policies: ['sarathi'],
      };
      const a100 = runCapacity({ base, slo: 'ttft=1s', attainment: 0.9 }).policies[0];
      const dev = runCapacity({
        base: { ...base, costModel: 'profile:profile-cap', profile },
        slo: 'ttft=1s',
        attainment: 0.9,
      }).policies[0];
      const shown = await rows.evaluateAll((trs) =>
        trs.map((tr) => Number(tr.querySelector('td[data-key=capacity]')?.getAttribute('data-value'))),
      );
      expect(shown).toEqual([a100?.capacity, dev?.capacity]);
      expect(a100?.capacity).toBeGreaterThan(0);
      await sec.scrollIntoViewIfNeeded();
      await sec.screenshot({ path: path.join(SHOTS, 'compare-capacity-1400.png') });
      await page.setViewportSize({ width: 800, height: 900 });
      await sec.screenshot({ path: path.join(SHOTS, 'compare-capacity-800.png') });
      const v = await audit(page);
      await page.setViewportSize({ width: 1400, height: 900 });
      expect(v.map((x) => `${x.impact} ${x.id}`)).toEqual([]);
    },
    T * 2,
  );
});

describe('accessibility of the serving views', () => {
  it(
    'axe-core: no serious or critical violation with SLO, replicas, token table, TBT chart and capacity results',
    async () => {
      const failures: string[] = [];
      const report: Record<string, number> = {};
      for (const width of [1400, 800]) {
        await page.setViewportSize({ width, height: 900 });
        await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=200&pol=mcsf,sarathi&k=2&slo=ttft%3D1s');
        await runAndWait(page);
        await type(page, 'kv-capacity-panel input[name=cap-requests]', '200');
        await page.locator('kv-capacity-panel [data-testid=capacity-run]').click();
        await page.locator('kv-capacity-panel[data-state=done]').waitFor({ timeout: T });
        await page.locator('kv-result-charts kv-chart[data-drawn=true]').first().waitFor({ timeout: T });
        const v = await audit(page);
        report[`experiment-serving @${width}`] = v.length;
        for (const x of v) failures.push(`${width}: ${x.impact} ${x.id} (${x.help}) at ${JSON.stringify(x.nodes)}`);
      }
      await page.setViewportSize({ width: 1400, height: 900 });
      fs.mkdirSync(SHOTS, { recursive: true });
      fs.writeFileSync(path.join(SHOTS, 'axe-serving.json'), JSON.stringify(report, null, 1));
      expect(failures).toEqual([]);
    },
    T * 3,
  );
});
