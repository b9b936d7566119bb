/**
 * End-to-end tests of the app as a demanding user drives it (issue 16): no result under
 * the wrong configuration (inline validation, stale results marked, sweeps shown where
 * the user looks, the hindsight optimum stored with its run), readable tables, layout
 * at 1400 and 800 px, charts, texts, and an axe-core audit of every view. Headless
 * system Chromium on the built app (test/e2e/harness.ts); screenshots under
 * bench/results/screenshots/ (not committed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleProfile } from './helpers/profile.ts';
import { buildApp, launch, serve, type Served } from '../e2e/harness.ts';
import { SHOTS, audit, putRecord, shot, type } from '../e2e/page.ts';

const T = 60_000;

let tmp: string;
let served: Served;
let browser: Browser;
let page: Page;

async function clearDb(p: Page): Promise<void> {
  await p.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('kvsched');
        open.onerror = () => reject(open.error ?? new Error('open failed'));
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction('records', 'readwrite');
          tx.objectStore('records').clear();
          tx.oncomplete = () => {
            db.close();
            resolve();
          };
        };
      }),
  );
}

function readRecords(p: Page): Promise<{ id: string; title: string; data: Record<string, unknown> }[]> {
  return p.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('kvsched');
        open.onerror = () => reject(open.error ?? new Error('open failed'));
        open.onsuccess = () => {
          const db = open.result;
          const req = db.transaction('records', 'readonly').objectStore('records').getAll();
          req.onsuccess = () => {
            db.close();
            resolve(req.result as { id: string; title: string; data: Record<string, unknown> }[]);
          };
        };
      }),
  );
}

async function runAndWait(p: Page): Promise<void> {
  await p.locator('[data-testid=run]').click();
  await p.locator('kv-experiment-view[data-state=done]').waitFor({ timeout: T });
  await p.locator('[data-testid=save-status]').waitFor();
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvsched-e2e-ux-'));
  await buildApp(path.join(tmp, 'dist'));
  served = await serve(path.join(tmp, 'dist'));
  browser = await launch(true);
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('results never carry the wrong configuration', () => {
  it(
    'validates every input inline and refuses to run what the form does not show',
    async () => {
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=10&n=1000');
      await type(page, 'kv-config-form input[name=rate]', '-5');
      await type(page, 'kv-config-form input[name=requests]', '0');
      await type(page, 'kv-config-form input[name=seed]', '-3');
      const errs = page.locator('kv-config-form [data-testid=field-error]');
      await expect.poll(() => errs.count()).toBe(3);
      expect(await page.locator('kv-config-form [data-field=rate]').textContent()).toContain(
        'Arrival rate λ must be a number > 0',
      );
      expect(await page.locator('kv-config-form [data-field=requests]').textContent()).toContain(
        'Requests must be a whole number ≥ 1',
      );
      expect(await page.locator('kv-config-form [data-field=seed]').textContent()).toContain(
        'Seed must be a whole number ≥ 0',
      );
      // The field keeps what was typed (no silent replacement), and the link never took it.
      expect(await page.locator('kv-config-form input[name=seed]').inputValue()).toBe('-3');
      expect(await page.evaluate(() => location.hash)).not.toMatch(/seed=0|rate=-5|n=0/);
      // Run and Sweep are disabled, with the reason as visible text.
      expect(await page.locator('[data-testid=run]').isDisabled()).toBe(true);
      expect(await page.locator('[data-testid=sweep-run]').isDisabled()).toBe(true);
      const why = page.locator('[data-testid=run-blocked]');
      expect(await why.isVisible()).toBe(true);
      expect(await why.textContent()).toContain('Seed must be');
      // Enter in a field does not run either.
      await page.locator('kv-config-form input[name=seed]').press('Enter');
      expect(await page.locator('kv-experiment-view').getAttribute('data-state')).not.toBe('running');
      await shot(page, 'after-experiment-invalid-1400');
      // A bad sweep list disables only the sweep.
      await type(page, 'kv-config-form input[name=rate]', '20');
      await type(page, 'kv-config-form input[name=requests]', '200');
      await type(page, 'kv-config-form input[name=seed]', '3');
      await expect.poll(() => errs.count()).toBe(0);
      await type(page, 'input[name=sweep-rates]', '10, -4');
      await expect.poll(() => page.locator('[data-testid=sweep-run]').isDisabled()).toBe(true);
      expect(await page.locator('[data-testid=run]').isDisabled()).toBe(false);
      expect(await why.textContent()).toContain('Sweep rates: -4 is not');
      await type(page, 'input[name=sweep-rates]', '10, 20');
      // Enter runs, and the run uses exactly the form's values.
      await page.locator('kv-config-form input[name=requests]').press('Enter');
      await page.locator('kv-experiment-view[data-state=done]').waitFor({ timeout: T });
      expect(await page.locator('kv-results-table .foot').textContent()).toContain('200 requests, λ = 20/s');
      expect(await page.locator('kv-results-table .foot').textContent()).toContain('seed 3');
    },
    T,
  );

  it(
    'marks results that no longer match the form, and unmarks them when it matches again',
    async () => {
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=300&pol=mcsf,vllm');
      await runAndWait(page);
      const card = page.locator('[data-testid=results-card]');
      expect(await card.getAttribute('data-stale')).toBe('false');
      await type(page, 'kv-config-form input[name=rate]', '30');
      await expect.poll(() => card.getAttribute('data-stale')).toBe('true');
      expect(await page.locator('[data-testid=stale-note]').textContent()).toContain('λ 20 → 30');
      await shot(page, 'after-experiment-stale-1400');
      await type(page, 'kv-config-form input[name=rate]', '20');
      await expect.poll(() => card.getAttribute('data-stale')).toBe('false');
      // While a new run is in progress the old results say so.
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=50&n=10000');
      await page.locator('[data-testid=run]').click();
      await page.locator('kv-run-progress').waitFor();
      await expect
        .poll(() => page.locator('[data-testid=stale-note]').textContent())
        .toContain('a new run is in progress');
      await page.locator('kv-experiment-view[data-state=done]').waitFor({ timeout: T });
      expect(await card.getAttribute('data-stale')).toBe('false');
    },
    T,
  );

  it(
    'shows a sweep first, in view, under a title naming its rates',
    async () => {
      await clearDb(page);
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=200&pol=mcsf,vllm&sweep=10,20,30');
      await runAndWait(page);
      await page.locator('[data-testid=sweep-run]').click();
      await page.locator('[data-testid=sweep]').waitFor({ timeout: T });
      await page.locator('kv-experiment-view[data-state=done]').waitFor({ timeout: T });
      const order = await page.evaluate(() => {
        const root = document.querySelector('kv-app')?.shadowRoot?.querySelector('kv-experiment-view')?.shadowRoot;
        const sweep = root?.querySelector('[data-testid=sweep]');
        const results = root?.querySelector('[data-testid=results-card]');
        if (!sweep || !results) return 'missing';
        return sweep.compareDocumentPosition(results) & Node.DOCUMENT_POSITION_FOLLOWING
          ? 'sweep first'
          : 'results first';
      });
      expect(order).toBe('sweep first');
      await expect
        .poll(async () => {
          const box = await page.locator('[data-testid=sweep]').boundingBox();
          return box !== null && box.y < 900 && box.y + box.height > 0;
        })
        .toBe(true);
      const recs = await readRecords(page);
      const sweepRec = recs.find((r) => r.data.type === 'sweep');
      expect(sweepRec?.title).toContain('λ ∈ {10, 20, 30}');
      expect(sweepRec?.title).not.toContain('λ=20');
      await shot(page, 'after-experiment-sweep-1400');
    },
    T,
  );

  it(
    'stores the hindsight optimum with its run; Open from History restores the ratios',
    async () => {
      await clearDb(page);
      await page.goto(served.url + '#/experiment?preset=synthetic-zero&sn=12&seed=3&pol=mcsf,mc-fcfs');
      await runAndWait(page);
      await page.locator('[data-testid=optimum-run]').click();
      await page.locator('[data-testid=optimum]').waitFor({ timeout: 30_000 });
      const ratio = await page
        .locator('[data-testid=optimum] tr[data-policy=mcsf] td[data-key=ratio]')
        .getAttribute('data-value');
      await expect.poll(async () => (await readRecords(page))[0]?.data.optimum !== undefined).toBe(true);
      await page.goto(served.url + '#/history');
      await page.reload();
      const row = page.locator('[data-testid=history] tbody tr[data-kind=run]').first();
      await row.waitFor({ timeout: T });
      await row.getByRole('button', { name: 'Open' }).click();
      const box = page.locator('[data-testid=optimum]');
      await box.waitFor({ timeout: T });
      expect(await box.locator('tr[data-policy=mcsf] td[data-key=ratio]').getAttribute('data-value')).toBe(ratio);
    },
    T,
  );
});

describe('tables you can read', () => {
  it(
    'puts a unit in every header, reads a failure in the run’s unit, names profiles',
    async () => {
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=50&pol=mcsf,alpha-greedy:0.99');
      await runAndWait(page);
      const headers = await page.locator('kv-results-table thead th.num').allTextContents();
      expect(headers.length).toBeGreaterThan(8);
      for (const h of headers) expect(h).toMatch(/\(.+\)/);
      const err = (await page.locator('kv-results-table [data-testid=policy-error]').textContent()) ?? '';
      expect(err).not.toContain('StuckError');
      expect(err).toMatch(/stuck at 48\.336 s /);
      // A profile cost model is named by its title, not its record id.
      await putRecord(page, {
        id: 'profile-ux',
        kind: 'profile',
        createdAt: Date.now(),
        title: 'SwiftShader (quick)',
        data: sampleProfile(),
      });
      await page.goto(served.url + '#/history');
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=100&pol=mcsf&cost=profile%3Aprofile-ux');
      await page.reload();
      await page
        .locator('kv-config-form select[name=cost] option[value="profile:profile-ux"]')
        .waitFor({ state: 'attached' });
      await runAndWait(page);
      const foot = (await page.locator('kv-results-table .foot').textContent()) ?? '';
      expect(foot).toContain('SwiftShader (quick)');
      expect(foot).not.toContain('profile:profile-ux');
    },
    T,
  );
});

/** Selects whose chosen option's text is wider than the room the select gives it. */
function truncatedSelects(p: Page): Promise<string[]> {
  return p.evaluate(() => {
    const out: string[] = [];
    const ctx = document.createElement('canvas').getContext('2d');
    const walk = (root: Document | ShadowRoot): void => {
      root.querySelectorAll('select').forEach((s) => {
        const cs = getComputedStyle(s);
        if (!ctx || s.offsetParent === null) return;
        ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
        const text = s.selectedOptions[0]?.text ?? '';
        // ~20 px for the drop-down arrow.
        const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20;
        if (ctx.measureText(text).width > room) out.push(`${s.name || s.getAttribute('aria-label')}: "${text}"`);
      });
      root.querySelectorAll('*').forEach((e) => e.shadowRoot && walk(e.shadowRoot));
    };
    walk(document);
    return out;
  });
}

describe('layout at 1400 and 800 px', () => {
  for (const width of [1400, 800]) {
    it(
      `keeps the results table in its card, the trace hint in its box, dropdown texts whole (${width} px)`,
      async () => {
        const p = await browser.newPage({ viewport: { width, height: 900 } });
        try {
          await p.goto(served.url + '#/experiment?preset=lmsys&rate=50&n=2000');
          await runAndWait(p);
          const card = await p
            .locator('kv-experiment-view section.card', { has: p.locator('kv-results-table') })
            .boundingBox();
          // Both tables (per policy, token level) stay in the card.
          for (const scroll of await p.locator('kv-results-table .scroll').all()) {
            const box = await scroll.boundingBox();
            expect(card && box).toBeTruthy();
            if (card && box) expect(box.x + box.width).toBeLessThanOrEqual(card.x + card.width);
            if (width === 1400) {
              // Wide enough: every column visible without scrolling.
              expect(await scroll.evaluate((e) => e.scrollWidth <= e.clientWidth + 1)).toBe(true);
            }
          }
          expect(await truncatedSelects(p)).toEqual([]);
          await shot(p, `after-experiment-${width}`);
          // Every preset's name fits its dropdown.
          for (const preset of ['lmsys-high', 'lmsys-low', 'synthetic-zero', 'synthetic-poisson', 'trace', 'lmsys']) {
            await p.locator('kv-config-form select[name=preset]').selectOption(preset);
            expect(await truncatedSelects(p), preset).toEqual([]);
          }
          await p.goto(served.url + '#/experiment?preset=trace');
          await p.locator('kv-config-form input[name=trace]').waitFor();
          const hint = p.locator('kv-config-form .hint', { hasText: 'arrived_at' });
          const own = await p
            .locator('kv-config-form fieldset', { has: p.locator('.hint', { hasText: 'arrived_at' }) })
            .boundingBox();
          const h = await hint.boundingBox();
          const code = await hint.locator('code').last().boundingBox();
          expect(own && h && code).toBeTruthy();
          if (own && h && code) {
            expect(h.x + h.width).toBeLessThanOrEqual(own.x + own.width);
            expect(code.x + code.width).toBeLessThanOrEqual(own.x + own.width);
          }
          expect(await truncatedSelects(p)).toEqual([]);
          await shot(p, `after-experiment-trace-${width}`);
        } finally {
          await p.close();
        }
      },
      T,
    );
  }
});

describe('charts, texts and exports', () => {
  it(
    'colours a policy by its spelling, offers a log-x CDF, small multiples for many policies',
    async () => {
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=200&pol=vllm,mcsf');
      await runAndWait(page);
      const colors = async (sel: string): Promise<Record<string, string>> => {
        const c = page.locator(sel).first();
        await expect.poll(() => c.getAttribute('data-colors')).toBeTruthy();
        return JSON.parse((await c.getAttribute('data-colors')) ?? '{}') as Record<string, string>;
      };
      const a = await colors('kv-result-charts kv-chart[data-testid=cdf-chart]');
      const bars = await colors('kv-result-charts kv-chart[data-testid=bar-chart]');
      expect(bars.mcsf).toBe(a.mcsf);
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=200&pol=mcsf,vllm');
      await runAndWait(page);
      await expect
        .poll(async () => (await colors('kv-result-charts kv-chart[data-testid=cdf-chart]')).mcsf)
        .toBe(a.mcsf);
      expect((await colors('kv-result-charts kv-chart[data-testid=cdf-chart]')).vllm).toBe(a.vllm);
      // Log-x CDF.
      await page.locator('kv-result-charts input[name=cdf-log]').check();
      await expect
        .poll(() => page.locator('kv-result-charts kv-chart[data-testid=cdf-chart] figcaption').textContent())
        .toContain('Latency CDF');
      expect(
        await page.evaluate(() => {
          const charts = document
            .querySelector('kv-app')
            ?.shadowRoot?.querySelector('kv-experiment-view')
            ?.shadowRoot?.querySelector('kv-result-charts')?.shadowRoot;
          const el = charts?.querySelector('kv-chart[data-testid=cdf-chart]') as
            (Element & { spec?: { logX?: boolean } }) | null | undefined;
          return el?.spec?.logX === true;
        }),
      ).toBe(true);
      // The paper's seven policies: one KV chart per policy, each with the capacity line.
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=300');
      await runAndWait(page);
      const multiples = page.locator('kv-result-charts [data-testid=kv-multiples] kv-chart');
      await expect.poll(() => multiples.count()).toBe(7);
      // Small multiples draw when they come into view.
      await multiples.first().scrollIntoViewIfNeeded();
      await expect.poll(() => multiples.first().getAttribute('data-drawn')).toBe('true');
      const first = JSON.parse((await multiples.first().getAttribute('data-colors')) ?? '{}') as Record<string, string>;
      expect(Object.keys(first).some((k) => k.startsWith('capacity M ='))).toBe(true);
      await shot(page, 'after-experiment-7-policies-1400');
    },
    T,
  );

  it(
    'says the GPU engine runs the policies as one job',
    async () => {
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=50&n=10000&eng=gpu');
      await page
        .locator('kv-config-form select[name=engine] option[value=gpu]:not([disabled])')
        .waitFor({ state: 'attached', timeout: T });
      await page.locator('[data-testid=run]').click();
      await expect
        .poll(() => page.locator('kv-run-progress [data-testid=progress-text]').textContent(), { timeout: T })
        .toContain('as one GPU job');
      expect(await page.locator('kv-run-progress [data-testid=progress-text]').textContent()).not.toContain(
        'run 1 of 7',
      );
      await page.locator('[data-testid=cancel]').click();
    },
    T,
  );

  it(
    'fixes the wrong texts: Device view GPU engine, cost hint with a profile, "1 policy"',
    async () => {
      await page.goto(served.url + '#/device');
      await page.locator('[data-testid=webgpu-status]').waitFor({ timeout: T });
      expect(await page.locator('[data-testid=gpu-engine]').textContent()).toContain('available');
      expect(await page.locator('[data-testid=gpu-engine]').textContent()).not.toContain('not in this build');
      // webgpureport-like: marked limits and copy as JSON.
      expect(await page.locator('[data-testid=limits] tr[data-above=true]').count()).toBeGreaterThan(0);
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
      await page.locator('[data-testid=copy-json]').click();
      await page.locator('[data-testid=copy-status]').waitFor();
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      const report = JSON.parse(copied) as {
        detection: { available: boolean; limits: Record<string, number> };
        wgslLanguageFeatures: string[];
      };
      expect(report.detection.available).toBe(true);
      expect(report.detection.limits.maxBufferSize).toBeGreaterThan(0);
      expect(Array.isArray(report.wgslLanguageFeatures)).toBe(true);
      await shot(page, 'after-device-1400');

      await putRecord(page, {
        id: 'profile-hint',
        kind: 'profile',
        createdAt: Date.now(),
        title: 'Hint device (quick)',
        data: sampleProfile(),
      });
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=50&pol=mcsf&cost=profile%3Aprofile-hint');
      await page.reload();
      await expect
        .poll(() => page.locator('kv-config-form [data-testid=cost-hint]').textContent())
        .toContain('Hint device (quick)');
      expect(await page.locator('kv-config-form [data-testid=cost-hint]').textContent()).not.toContain(
        'Llama-2 70B on 2× A100',
      );
      await clearDb(page);
      await runAndWait(page);
      await page.goto(served.url + '#/history');
      const row = page.locator('[data-testid=history] tbody tr[data-kind=run]').first();
      await row.waitFor({ timeout: T });
      expect(await row.textContent()).toContain('1 policy');
      expect(await row.textContent()).not.toContain('1 policies');
    },
    T,
  );

  it(
    'exports the results table and per-request data as CSV, charts as PNG; sweeps keep p99, TTFT, throughput, evictions',
    async () => {
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=120&pol=mcsf,vllm&sweep=10,20');
      await runAndWait(page);
      const save = async (sel: string): Promise<string> => {
        const [d] = await Promise.all([page.waitForEvent('download'), page.locator(sel).first().click()]);
        const f = path.join(tmp, d.suggestedFilename());
        await d.saveAs(f);
        return f;
      };
      const table = fs
        .readFileSync(await save('[data-testid=results-csv]'), 'utf8')
        .trim()
        .split('\n');
      expect(table[0]).toContain('mean_latency_s');
      expect(table.length).toBe(3);
      const mean = Number(
        await page.locator('kv-results-table tr[data-policy=mcsf] td[data-key=meanLatency]').getAttribute('data-value'),
      );
      expect(Number(table[1]?.split(',')[2])).toBe(mean);
      const reqs = fs
        .readFileSync(await save('[data-testid=requests-csv]'), 'utf8')
        .trim()
        .split('\n');
      expect(reqs[0]).toBe(
        'policy,id,arrival,prompt_tokens,output_tokens,predicted_output_tokens,start,first_token,completion,latency,ttft,restarts,energy_j',
      );
      expect(reqs.length).toBe(1 + 2 * 120);
      const lat = reqs
        .slice(1)
        .filter((l) => l.startsWith('mcsf,'))
        .map((l) => Number(l.split(',')[9]));
      expect(lat.reduce((x, y) => x + y, 0) / lat.length).toBeCloseTo(mean, 9);
      const png = fs.readFileSync(
        await save('kv-result-charts kv-chart[data-testid=cdf-chart] [data-testid=chart-png]'),
      );
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      await page.locator('[data-testid=sweep-run]').click();
      await page.locator('[data-testid=sweep-table]').waitFor({ timeout: T });
      await page.locator('kv-experiment-view[data-state=done]').waitFor({ timeout: T });
      const metric = page.locator('select[name=sweep-metric]');
      const options = await metric.locator('option').allTextContents();
      for (const want of ['p99 latency', 'mean TTFT', 'throughput', 'evictions'])
        expect(options.some((o) => o.includes(want))).toBe(true);
      await metric.selectOption('evictions');
      await expect.poll(() => page.locator('[data-testid=sweep-table]').getAttribute('data-metric')).toBe('evictions');
      const sweep = fs
        .readFileSync(await save('[data-testid=sweep-csv]'), 'utf8')
        .trim()
        .split('\n');
      expect(sweep[0]).toBe('policy,rate,meanLatency,p99Latency,meanTtft,p99Ttft,throughput,evictions');
      expect(sweep.length).toBe(1 + 2 * 2);
    },
    T,
  );
});

describe('accessibility', () => {
  it(
    'axe-core finds no serious or critical violation on any view (1400 and 800 px)',
    async () => {
      const report: Record<string, { serious: number; critical: number; ids: string[] }> = {};
      const failures: string[] = [];
      // Its own page (so its own context), with the CSP bypassed so that axe-core can be injected (see audit()).
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, bypassCSP: true });
      await page.goto(served.url + '#/history');
      // The app creates the database; wait for it before writing into it.
      await page.locator('[data-testid=history], [data-testid=history-empty]').first().waitFor({ timeout: T });
      await putRecord(page, {
        id: 'profile-axe',
        kind: 'profile',
        createdAt: Date.now(),
        title: 'Axe device (quick)',
        data: sampleProfile(),
      });
      for (const width of [1400, 800]) {
        await page.setViewportSize({ width, height: 900 });
        const views: [string, string, () => Promise<void>][] = [
          ['device', '#/device', () => page.locator('[data-testid=webgpu-status]').waitFor({ timeout: T })],
          [
            'experiment',
            '#/experiment?preset=lmsys&rate=20&n=200',
            async () => {
              await runAndWait(page);
              await page.locator('kv-result-charts kv-chart[data-drawn=true]').first().waitFor({ timeout: T });
            },
          ],
          [
            'experiment-invalid',
            '#/experiment?preset=lmsys&rate=20&n=200',
            async () => {
              await type(page, 'kv-config-form input[name=rate]', '-1');
              await page.locator('[data-testid=run-blocked]').waitFor();
            },
          ],
          ['calibrate', '#/calibrate', () => page.locator('kv-calibrate-view h2').waitFor({ timeout: T })],
          ['compare', '#/compare', () => page.locator('kv-compare-view h2').waitFor({ timeout: T })],
          ['history', '#/history', () => page.locator('[data-testid=history]').waitFor({ timeout: T })],
        ];
        for (const [name, hash, ready] of views) {
          await page.goto(served.url + hash);
          await ready();
          const v = await audit(page);
          report[`${name} @${width}`] = report[`${name} @${width}`] ?? { serious: 0, critical: 0, ids: [] };
          const cut = await truncatedSelects(page);
          for (const c of cut) failures.push(`${name} @${width}: truncated dropdown ${c}`);
          if (name === 'experiment-invalid') await type(page, 'kv-config-form input[name=rate]', '20');
          report[`${name} @${width}`] = {
            serious: v.filter((x) => x.impact === 'serious').length,
            critical: v.filter((x) => x.impact === 'critical').length,
            ids: v.map((x) => x.id),
          };
          for (const x of v)
            failures.push(
              `${name} @${width}: ${x.impact} ${x.id} (${x.help}) at ${JSON.stringify(x.nodes.map((n) => n.target))}`,
            );
        }
      }
      // Without WebGPU: the Device view's explanation and the Experiment view's banner.
      const b = await launch(false);
      try {
        const p = await b.newPage({ viewport: { width: 1400, height: 900 }, bypassCSP: true });
        for (const [name, hash, sel] of [
          ['device-no-webgpu', '#/device', '[data-testid=webgpu-status]'],
          ['experiment-no-webgpu', '#/experiment', '[data-testid=no-webgpu]'],
        ] as const) {
          await p.goto(served.url + hash);
          await p.locator(sel).waitFor({ timeout: T });
          const v = await audit(p);
          report[`${name} @1400`] = {
            serious: v.filter((x) => x.impact === 'serious').length,
            critical: v.filter((x) => x.impact === 'critical').length,
            ids: v.map((x) => x.id),
          };
          for (const x of v)
            failures.push(
              `${name}: ${x.impact} ${x.id} (${x.help}) at ${JSON.stringify(x.nodes.map((n) => n.target))}`,
            );
          expect(await truncatedSelects(p)).toEqual([]);
        }
      } finally {
        await b.close();
      }
      fs.mkdirSync(SHOTS, { recursive: true });
      fs.writeFileSync(path.join(SHOTS, 'axe.json'), JSON.stringify(report, null, 1));
      console.log('axe-core per view:', JSON.stringify(report));
      await page.close();
      expect(failures).toEqual([]);
    },
    3 * T,
  );
});

describe('keyboard', () => {
  it(
    'reaches Run by Tab alone, shows the focus, and Enter runs',
    async () => {
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=150&pol=mcsf');
      await page.reload();
      await page.locator('[data-testid=run]').waitFor();
      const focused = () =>
        page.evaluate(() => {
          let e: Element | null = document.activeElement;
          while (e?.shadowRoot?.activeElement) e = e.shadowRoot.activeElement;
          if (!e) return null;
          const cs = getComputedStyle(e);
          return {
            testid: e.getAttribute('data-testid'),
            name: e.getAttribute('name'),
            outline: cs.outlineStyle,
            width: parseFloat(cs.outlineWidth),
          };
        });
      const seen: string[] = [];
      let hit = null;
      for (let i = 0; i < 80 && !hit; i++) {
        await page.keyboard.press('Tab');
        const f = await focused();
        seen.push(f?.name ?? f?.testid ?? '?');
        if (f?.testid === 'run') hit = f;
      }
      expect(hit, `tab order: ${seen.join(' → ')}`).toBeTruthy();
      // The form's fields come before Run, in reading order.
      expect(seen.indexOf('rate')).toBeLessThan(seen.indexOf('requests'));
      expect(seen.indexOf('requests')).toBeLessThan(seen.indexOf('seed'));
      expect(hit?.outline).not.toBe('none');
      expect(hit?.width).toBeGreaterThanOrEqual(2);
      await page.keyboard.press('Enter');
      await page.locator('kv-experiment-view[data-state=done]').waitFor({ timeout: T });
      expect(await page.locator('kv-results-table [data-testid=results] tr[data-policy=mcsf]').count()).toBe(1);
      // Enter in a field commits it and runs (a form's submit).
      const n = page.locator('kv-config-form input[name=requests]');
      await n.focus();
      await n.fill('120');
      await n.press('Enter');
      await expect
        .poll(() => page.locator('kv-results-table .foot').textContent(), { timeout: T })
        .toContain('120 requests');
    },
    T,
  );
});

describe('compare stored runs', () => {
  it(
    'shows two runs from History side by side, with their configuration differences',
    async () => {
      await page.goto(served.url + '#/history');
      await page.locator('[data-testid=history], [data-testid=history-empty]').first().waitFor({ timeout: T });
      await clearDb(page);
      await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=200&pol=mcsf,vllm');
      await runAndWait(page);
      const m20 = Number(
        await page.locator('kv-results-table tr[data-policy=mcsf] td[data-key=meanLatency]').getAttribute('data-value'),
      );
      await type(page, 'kv-config-form input[name=rate]', '40');
      await runAndWait(page);
      await expect.poll(async () => (await readRecords(page)).length).toBe(2);
      await page.goto(served.url + '#/history');
      await page.reload();
      const picks = page.locator('[data-testid=compare-pick]');
      await expect.poll(() => picks.count(), { timeout: T }).toBe(2);
      expect(await page.locator('[data-testid=compare-runs]').isDisabled()).toBe(true);
      await picks.nth(0).check();
      await picks.nth(1).check();
      await page.locator('[data-testid=compare-runs]').click();
      const cmp = page.locator('kv-run-compare [data-testid=run-compare]');
      await cmp.waitFor({ timeout: T });
      const diffRows = page.locator('kv-run-compare [data-testid=compare-diffs] tbody tr');
      expect(await diffRows.count()).toBe(1);
      expect(await diffRows.first().getAttribute('data-field')).toBe('rate');
      expect(await page.locator('kv-run-compare [data-testid=compare-table] tbody tr').count()).toBe(4);
      const means = await page
        .locator('kv-run-compare [data-testid=compare-table] tr[data-policy=mcsf] td[data-key=meanLatency]')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
      expect(means).toContain(m20);
      const cdf = page.locator('kv-run-compare kv-chart[data-testid=compare-cdf]');
      await expect.poll(() => cdf.getAttribute('data-colors'), { timeout: T }).toBeTruthy();
      expect(Object.keys(JSON.parse((await cdf.getAttribute('data-colors')) ?? '{}') as object).length).toBe(4);
      await shot(page, 'after-history-compare-1400');
    },
    T,
  );
});
