/**
 * Two Vitest projects:
 * - `node`: plain Node tests under test/node.
 * - `browser`: tests under test/browser, run in headless Chromium through
 *   Playwright with WebGPU enabled (SwiftShader on a GPU-less machine).
 *
 * The browser is the system Chromium (Debian: `apt-get install -y chromium`,
 * see scripts/setup-browser.sh), never a Playwright download. Override its path
 * with the env var CHROMIUM_PATH.
 *
 * This file replaces vite.config.ts for Vitest (Vite's config is not merged in).
 */
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { crossOriginIsolationHeaders } from './vite.config.ts';

const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const chromiumArgs = [
  '--enable-unsafe-webgpu',
  // The machine may have no network: keep Chromium from trying to reach it.
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Needed when running as root (CI containers).
  '--no-sandbox',
];

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/node/**/*.test.ts'],
        },
      },
      {
        extends: true,
        // Cross-origin isolation for the test page too: performance.now() at ~5 µs, not ~100 µs.
        server: { headers: crossOriginIsolationHeaders },
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          // SwiftShader is a CPU rasteriser: give GPU work room.
          testTimeout: 60_000,
          hookTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: {
                executablePath: chromiumPath,
                args: chromiumArgs,
              },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
