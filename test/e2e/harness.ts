/**
 * Shared by the end-to-end tests (test/node/e2e-app.test.ts) and `npm run bench`:
 * build the app, serve it with `vite preview` on a free localhost port, and launch the
 * system Chromium (never a downloaded browser).
 */
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright';
import { build, preview } from 'vite';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG = path.join(ROOT, 'vite.config.ts');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const QUIET_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Production build of the app into outDir. */
export async function buildApp(outDir: string): Promise<void> {
  await build({
    root: ROOT,
    configFile: CONFIG,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, sourcemap: false },
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** `vite preview` of a build (with the config's COOP/COEP headers) on 127.0.0.1. */
export async function serve(outDir: string, port?: number): Promise<Served> {
  const p = port ?? (await freePort());
  const server = await preview({
    root: ROOT,
    configFile: CONFIG,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: p, strictPort: true, open: false },
  });
  return { url: `http://127.0.0.1:${p}/`, close: () => server.close() };
}

/** Headless system Chromium, with or without WebGPU. */
export function launch(webgpu: boolean): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...(webgpu ? ['--enable-unsafe-webgpu'] : []), ...QUIET_ARGS],
  });
}
