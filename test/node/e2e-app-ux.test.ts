/**
 * End-to-end tests of the app as a demanding user drives it (issue 16): no result under
 * the wrong configuration (inline validation, stale results marked, sweeps shown where
 * the user looks, the hindsight optimum stored with its run), readable tables, layout
 * at 1400 and 800 px, charts, texts, and an axe-core audit of every view. Headless
 * system Chromium on the built app (test/e2e/harness.ts); screenshots under
 * bench/results/screenshots/ (not committed).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleProfile } from './helpers/profile.ts';
import { buildApp, launch, ROOT, serve, type Served } from '../e2e/harness.ts';

const SHOTS = path.join(ROOT, 'bench/results/screenshots');
const T = 60_000;
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let tmp: string;
let served: Served;
let browser: Browser;
let page: Page;

async function shot(p: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function type(p: Page, selector: string, value: string): Promise<void> {
  const input = p.locator(selector);
  await input.fill(value);
  await input.dispatchEvent('change');
}

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

async function putRecord(p: Page, rec: unknown): Promise<void> {
  await p.evaluate(
    (r) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('kvsched');
        open.onerror = () => reject(open.error ?? new Error('open failed'));
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction('records', 'readwrite');
          tx.objectStore('records').put(r);
          tx.oncomplete = () => {
            db.close();
            resolve();
          };
        };
      }),
    rec,
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
  it('validates every input inline and refuses to run what the form does not show', async () => {
    await page.goto(served.url + '#/experiment?preset=lmsys&rate=10&n=1000');
    await type(page, 'kv-config-form input[name=rate]', '-5');
    await type(page, 'kv-config-form input[name=requests]', '0');
    await type(page, 'kv-config-form input[name=seed]', '-3');
    const errs = page.locator('kv-config-form [data-testid=field-error]');
    await expect.poll(() => errs.count()).toBe(3);
    expect(await page.locator('kv-config-form [data-field=rate]').textContent()).toContain('Arrival rate λ must be a number > 0');
    expect(await page.locator('kv-config-form [data-field=requests]').textContent()).toContain('Requests must be a whole number ≥ 1');
    expect(await page.locator('kv-config-form [data-field=seed]').textContent()).toContain('Seed must be a whole number ≥ 0');
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
  }, T);

  it('marks results that no longer match the form, and unmarks them when it matches again', async () => {
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
    await expect.poll(() => page.locator('[data-testid=stale-note]').textContent()).toContain('a new run is in progress');
    await page.locator('kv-experiment-view[data-state=done]').waitFor({ timeout: T });
    expect(await card.getAttribute('data-stale')).toBe('false');
  }, T);

  it('shows a sweep first, in view, under a title naming its rates', async () => {
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
      return sweep.compareDocumentPosition(results) & Node.DOCUMENT_POSITION_FOLLOWING ? 'sweep first' : 'results first';
    });
    expect(order).toBe('sweep first');
    await expect.poll(async () => {
      const box = await page.locator('[data-testid=sweep]').boundingBox();
      return box !== null && box.y < 900 && box.y + box.height > 0;
    }).toBe(true);
    const recs = await readRecords(page);
    const sweepRec = recs.find((r) => r.data.type === 'sweep');
    expect(sweepRec?.title).toContain('λ ∈ {10, 20, 30}');
    expect(sweepRec?.title).not.toContain('λ=20');
    await shot(page, 'after-experiment-sweep-1400');
  }, T);

  it('stores the hindsight optimum with its run; Open from History restores the ratios', async () => {
    await clearDb(page);
    await page.goto(served.url + '#/experiment?preset=synthetic-zero&sn=12&seed=3&pol=mcsf,mc-fcfs');
    await runAndWait(page);
    await page.locator('[data-testid=optimum-run]').click();
    await page.locator('[data-testid=optimum]').waitFor({ timeout: 30_000 });
    const ratio = await page.locator('[data-testid=optimum] tr[data-policy=mcsf] td[data-key=ratio]').getAttribute('data-value');
    await expect.poll(async () => (await readRecords(page))[0]?.data.optimum !== undefined).toBe(true);
    await page.goto(served.url + '#/history');
    await page.reload();
    const row = page.locator('[data-testid=history] tbody tr[data-kind=run]').first();
    await row.waitFor({ timeout: T });
    await row.getByRole('button', { name: 'Open' }).click();
    const box = page.locator('[data-testid=optimum]');
    await box.waitFor({ timeout: T });
    expect(await box.locator('tr[data-policy=mcsf] td[data-key=ratio]').getAttribute('data-value')).toBe(ratio);
  }, T);
});

describe('tables you can read', () => {
  it('puts a unit in every header, reads a failure in the run’s unit, names profiles', async () => {
    await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=50&pol=mcsf,alpha-greedy:0.99');
    await runAndWait(page);
    const headers = await page.locator('kv-results-table thead th.num').allTextContents();
    expect(headers.length).toBeGreaterThan(8);
    for (const h of headers) expect(h).toMatch(/\(.+\)/);
    const err = (await page.locator('kv-results-table [data-testid=policy-error]').textContent()) ?? '';
    expect(err).not.toContain('StuckError');
    expect(err).toMatch(/stuck at 48\.336 s /);
    // A profile cost model is named by its title, not its record id.
    await putRecord(page, { id: 'profile-ux', kind: 'profile', createdAt: Date.now(), title: 'SwiftShader (quick)', data: sampleProfile() });
    await page.goto(served.url + '#/history');
    await page.goto(served.url + '#/experiment?preset=lmsys&rate=20&n=100&pol=mcsf&cost=profile%3Aprofile-ux');
    await page.reload();
    await page.locator('kv-config-form select[name=cost] option[value="profile:profile-ux"]').waitFor({ state: 'attached' });
    await runAndWait(page);
    const foot = (await page.locator('kv-results-table .foot').textContent()) ?? '';
    expect(foot).toContain('SwiftShader (quick)');
    expect(foot).not.toContain('profile:profile-ux');
  }, T);
});
