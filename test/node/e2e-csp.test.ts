/**
 * The built app under its Content-Security-Policy (vite.config.ts), in headless system
 * Chromium through `vite preview`: the policy is delivered (meta tag and header), the
 * app runs an experiment in its worker, opens History and imports a bundle (zod, without
 * code generation) with no violation; an injected inline script is blocked and reported.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle } from '../../src/storage/bundle.ts';
import { CONTENT_SECURITY_POLICY } from '../../vite.config.ts';
import { buildApp, launch, serve, type Served } from '../e2e/harness.ts';
import { validRecords } from '../fuzz/imports.ts';

const T = 120_000;
let tmp: string;
let served: Served;
let browser: Browser;
let page: Page;
const violations: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvsched-csp-'));
  await buildApp(path.join(tmp, 'dist'));
  served = await serve(path.join(tmp, 'dist'));
  browser = await launch(false);
  page = await browser.newPage();
  await page.exposeFunction('__cspViolation', (v: string) => violations.push(v));
  // Init scripts run outside the page's CSP: they only listen.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      void (window as unknown as { __cspViolation(v: string): Promise<void> }).__cspViolation(
        `${e.effectiveDirective} ${e.blockedURI}`,
      );
    });
  });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
}, T);

afterAll(async () => {
  await browser?.close();
  await served?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('Content-Security-Policy', () => {
  it(
    'is in the built page and in the preview server’s headers',
    async () => {
      const html = fs.readFileSync(path.join(tmp, 'dist', 'index.html'), 'utf8').replaceAll('&#39;', "'");
      expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}"`);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
      expect(html).not.toMatch(/<style|style=/);
      expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|'unsafe-eval'/);
      const res = await fetch(served.url);
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    },
    T,
  );

  it(
    'the app works under it: an experiment in the worker, History, an import — no violation',
    async () => {
      await page.goto(served.url + '#/experiment?preset=synthetic-zero&pol=mcsf,vllm');
      await page.locator('[data-testid=run]').click();
      await page.locator('kv-experiment-view[data-state=done]').waitFor({ timeout: T });
      await page.goto(served.url + '#/history');
      await page.locator('[data-testid=history]').waitFor({ timeout: T });
      const file = path.join(tmp, 'bundle.json');
      fs.writeFileSync(file, JSON.stringify(makeBundle(validRecords('csp'))));
      await page.locator('[data-testid=import]').setInputFiles(file);
      await page.locator('[data-testid=history-status]').waitFor({ timeout: T });
      expect(await page.locator('[data-testid=history-status]').textContent()).toContain('Imported 4 records');
      expect(violations).toEqual([]);
      expect(consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
    },
    T,
  );

  it(
    'blocks an injected inline script and reports the violation',
    async () => {
      const ran = await page.evaluate(async () => {
        const s = document.createElement('script');
        s.textContent = 'window.__inlineRan = true;';
        document.body.append(s);
        await new Promise((r) => setTimeout(r, 100));
        return (window as unknown as { __inlineRan?: boolean }).__inlineRan === true;
      });
      expect(ran).toBe(false);
      await expect.poll(() => violations.some((v) => v.startsWith('script-src-elem inline'))).toBe(true);
    },
    T,
  );
});
