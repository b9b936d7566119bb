/**
 * Page helpers shared by the app's end-to-end tests: screenshots under
 * bench/results/screenshots/ (not committed), typing into a field as a user commits it,
 * writing a stored record straight into IndexedDB, and the axe-core audit.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from 'playwright';
import { ROOT } from './harness.ts';

export const SHOTS = path.join(ROOT, 'bench/results/screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** A full-page screenshot, SHOTS/<name>.png. */
export async function shot(p: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

export async function type(p: Page, selector: string, value: string): Promise<void> {
  const input = p.locator(selector);
  await input.fill(value);
  await input.dispatchEvent('change');
}

export async function putRecord(p: Page, rec: unknown): Promise<void> {
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
          tx.onerror = () => reject(tx.error ?? new Error('put failed'));
        };
      }),
    rec,
  );
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * axe-core in the page: its serious and critical violations (the audit reaches into open
 * shadow roots). `addScriptTag` injects an inline script, which the app's CSP blocks: audit
 * pages are opened with `bypassCSP: true` (the CSP itself is tested in e2e-csp.test.ts).
 */
export async function audit(p: Page): Promise<AxeViolation[]> {
  if (!(await p.evaluate(() => 'axe' in window))) await p.addScriptTag({ path: AXE });
  const all = await p.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: AxeViolation[] }> } }
    ).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({
        target: n.target,
        ...(n.failureSummary !== undefined ? { failureSummary: n.failureSummary } : {}),
      })),
    }));
  });
  return all.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
