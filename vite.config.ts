/**
 * Vite config for the kvsched page (index.html → src/app/main.ts).
 *
 * COOP/COEP make the page cross-origin isolated, which gives performance.now()
 * ~5 µs resolution instead of ~100 µs (see docs/webgpu.md). They are
 * set for both `vite` (dev) and `vite preview`.
 */
import { defineConfig } from 'vite';

export const crossOriginIsolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Relative asset URLs: the built page works from any sub-path (e.g. GitHub Pages).
  base: './',
  server: {
    headers: crossOriginIsolationHeaders,
  },
  preview: {
    headers: crossOriginIsolationHeaders,
  },
  // The engine worker is an ES module (it imports the domain modules).
  worker: {
    format: 'es',
  },
  build: {
    target: 'es2022',
    outDir: 'dist',
    sourcemap: true,
  },
});
