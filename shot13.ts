// Temporary: screenshots of the Calibrate view with a profile that applied a device reference.
import fs from 'node:fs';
import { buildApp, launch, serve } from './test/e2e/harness.ts';
import { putRecord } from './test/e2e/page.ts';

const profile = JSON.parse(fs.readFileSync(process.argv[2] as string, 'utf8'));
const out = '/tmp/kvapp13';
await buildApp(out);
const srv = await serve(out);
const browser = await launch(true);
try {
  for (const width of [1400, 800]) {
    const page = await browser.newPage({ viewport: { width, height: 1000 } });
    await page.goto(`${srv.url}#/calibrate`);
    await page.waitForSelector('kv-app');
    await putRecord(page, { id: 'profile-shot', kind: 'profile', createdAt: Date.now(), title: `${profile.device.name} (quick)`, data: profile });
    await page.reload();
    await page.waitForSelector('[data-testid="calibration-result"]', { timeout: 30000 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: `/tmp/shots13/calibrate-${width}.png`, fullPage: true });
    const row = await page.evaluate(() => {
      const walk = (n: Element | ShadowRoot): string[] => {
        const acc: string[] = [];
        for (const el of Array.from(n.querySelectorAll('*'))) {
          if (el.shadowRoot) acc.push(...walk(el.shadowRoot));
          if (el.tagName === 'TR' && /device reference/.test(el.textContent ?? '')) acc.push((el.textContent ?? '').replace(/\s+/g, ' ').trim());
        }
        return acc;
      };
      return walk(document);
    });
    console.log(width, row);
    await page.close();
  }
} finally {
  await browser.close();
  await srv.close();
}
