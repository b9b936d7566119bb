/**
 * Runs the kernel benchmark in headless Chromium: a Vite dev server serves
 * bench/kernels.html (cross-origin isolated), playwright-core drives the system
 * Chromium (CHROMIUM_PATH, default /usr/bin/chromium) with WebGPU enabled.
 */
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { crossOriginIsolationHeaders } from '../vite.config.ts';
import { benchSummary, type KernelBenchResult } from '../src/gpu/kernel-bench.ts';

const ARGS = [
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-sandbox',
];

export async function runBrowserBench(o: { quick?: boolean; timeoutMs?: number } = {}): Promise<unknown> {
  const server = await createServer({
    root: process.cwd(),
    configFile: false,
    logLevel: 'error',
    server: { port: 0, host: '127.0.0.1', headers: crossOriginIsolationHeaders },
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ARGS,
    headless: true,
  });
  try {
    if (!url) throw new Error('vite did not report a URL');
    const page = await browser.newPage();
    page.on('console', (m) => console.error(`[page] ${m.text()}`));
    await page.goto(`${url}bench/kernels.html${o.quick ? '?quick' : ''}`);
    let last = '';
    const deadline = Date.now() + (o.timeoutMs ?? 900_000);
    for (;;) {
      const r = await page.evaluate(() => (window as unknown as { __kernelBench?: unknown }).__kernelBench);
      const text = (await page.textContent('#log')) ?? '';
      if (text.length > last.length) {
        process.stderr.write(text.slice(last.length).replace(/^\n/, '') + '\n');
        last = text;
      }
      if (r !== undefined) {
        const out = r as {
          ok: boolean;
          error?: string;
          adapter?: { description?: string; architecture?: string };
          result?: KernelBenchResult;
        };
        if (!out.ok) throw new Error(`Chromium bench failed: ${out.error}`);
        console.log(
          `Chromium: ${benchSummary(`${out.adapter?.architecture ?? ''} ${out.adapter?.description ?? ''}`.trim(), out.result as KernelBenchResult)}`,
        );
        return out;
      }
      if (Date.now() > deadline) throw new Error('Chromium bench timed out');
      await new Promise((res) => setTimeout(res, 1000));
    }
  } finally {
    await browser.close();
    await server.close();
  }
}
