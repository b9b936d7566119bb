/**
 * zod, configured once for every module that declares schemas: no code generation
 * (`jitless`). zod's JIT builds parsers with `new Function`, which the app's strict
 * Content-Security-Policy (no 'unsafe-eval', see vite.config.ts) forbids and reports
 * as a violation even when zod catches the error. Import `z` from here, not from 'zod'.
 */
import { z } from 'zod';

z.config({ jitless: true });

export { z };
