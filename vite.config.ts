/**
 * Vite config for the kvsched page (index.html → src/app/main.ts).
 *
 * COOP/COEP make the page cross-origin isolated, which gives performance.now()
 * ~5 µs resolution instead of ~100 µs (see docs/webgpu.md). They are
 * set for both `vite` (dev) and `vite preview`.
 *
 * Content-Security-Policy (CONTENT_SECURITY_POLICY): no inline script or style, no eval
 * ('wasm-unsafe-eval' only lets HiGHS compile its WebAssembly), same-origin everything
 * else. The built index.html carries it as a <meta> tag (so any static host applies it)
 * and `vite preview` also sends it as a header (which covers the workers, whose scripts
 * a <meta> tag does not reach). Not in `vite` dev: its HMR injects inline styles. zod
 * runs without code generation (src/model/zod.ts). test/node/e2e-csp.test.ts checks the
 * app works under it and that a violation is reported.
 */
import { defineConfig, type Plugin } from 'vite';

export const CSP_DIRECTIVES: Readonly<Record<string, string>> = {
  'default-src': "'self'",
  'script-src': "'self' 'wasm-unsafe-eval'",
  'style-src': "'self'",
  'img-src': "'self' data: blob:",
  'font-src': "'self'",
  'connect-src': "'self'",
  'worker-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'self'",
  'form-action': "'none'",
};

export const CONTENT_SECURITY_POLICY = Object.entries(CSP_DIRECTIVES)
  .map(([k, v]) => `${k} ${v}`)
  .join('; ');

/** Puts the CSP into the built index.html as the first <meta> of <head>. */
function cspMeta(): Plugin {
  return {
    name: 'kvsched-csp-meta',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: () => [
        {
          tag: 'meta',
          attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY },
          injectTo: 'head-prepend',
        },
      ],
    },
  };
}

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
    headers: { ...crossOriginIsolationHeaders, 'Content-Security-Policy': CONTENT_SECURITY_POLICY },
  },
  plugins: [cspMeta()],
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
