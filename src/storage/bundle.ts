/**
 * Export/import bundles: `{"schema":"kvsched.bundle/1","exportedAt":…,"records":[…]}`.
 * An import is validated whole (zod) before anything is written; an invalid file
 * changes nothing and the error says where it is wrong.
 */
import { shownText } from '../model/text.ts';
import { z } from '../model/zod.ts';
import { PROFILE_SCHEMA, profileSchema } from '../calibrate/profile.ts';
import { ROUTERS } from '../engine/replicas.ts';
import { experimentConfigSchema } from './run-config.ts';
import type { StoredRecord } from './schema.ts';

export const BUNDLE_SCHEMA = 'kvsched.bundle/1';
export { PROFILE_SCHEMA };

export interface Bundle {
  schema: typeof BUNDLE_SCHEMA;
  exportedAt: string;
  records: StoredRecord[];
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const series = z.object({ x: z.array(finite), y: z.array(finite) });
// NaN: a metric the engine did not record (TBT on the GPU engine); JSON exports write it as null.
const summary = z.record(z.string(), z.union([z.number(), z.nan()]).nullable());
const sloOutcome = z.object({
  slo: z.string(),
  attainment: z.union([z.number(), z.nan()]).nullable(),
  percentiles: z.array(
    z.object({
      term: z.string(),
      value: z.union([z.number(), z.nan()]).nullable(),
      bound: z.number(),
      met: z.boolean(),
    }),
  ),
  percentilesMet: z.boolean(),
});

// Discriminated unions (not z.union): a rejection then names the failing field, not just "Invalid input".
const policyRun = z.discriminatedUnion('ok', [
  z.object({
    policy: z.string(),
    ok: z.literal(true),
    summary,
    cdf: series,
    kv: series,
    wallMs: z.number(),
    // Added with issue 15 (token metrics, SLOs, replicas): optional, so older runs stay valid.
    tbtCdf: series.optional(),
    slo: sloOutcome.optional(),
    replicas: z.object({ router: z.enum(ROUTERS), summaries: z.array(summary) }).optional(),
  }),
  z.object({ policy: z.string(), ok: z.literal(false), error: z.string(), errorName: z.string() }),
]);

const experimentResult = z.object({
  description: z.string(),
  memory: z.number().int().positive(),
  mode: z.enum(['rounds', 'seconds']),
  requests: z.number().int().nonnegative(),
  costModel: z.string(),
  runs: z.array(policyRun),
  wallMs: z.number(),
});

const sweepResult = z.object({
  rates: z.array(finite),
  series: z.array(z.object({ policy: z.string(), meanLatency: z.array(finite.nullable()) })),
  mode: z.enum(['rounds', 'seconds']),
  wallMs: z.number(),
});

const maybeNumber = z.union([z.number(), z.nan()]).nullable();
const capacityResult = z.object({
  description: z.string(),
  memory: z.number().int().positive(),
  costModel: z.string(),
  slo: z.string(),
  attainment: z.number().gt(0).max(1),
  policies: z.array(
    z.object({
      policy: z.string(),
      capacity: finite,
      lo: finite,
      hi: finite.nullable(),
      probes: z.array(
        z.object({
          rate: finite,
          met: z.boolean(),
          attainment: maybeNumber,
          percentilesMet: z.boolean(),
          failure: z.string().optional(),
        }),
      ),
    }),
  ),
  wallMs: z.number(),
});

/** `data` of a `run` record. */
export const runData = z.discriminatedUnion('type', [
  z.object({ type: z.literal('experiment'), config: experimentConfigSchema, result: experimentResult }),
  z.object({ type: z.literal('sweep'), config: experimentConfigSchema, result: sweepResult }),
  z.object({
    type: z.literal('capacity'),
    config: experimentConfigSchema,
    requests: z.number().int().min(2),
    result: capacityResult,
  }),
]);

/** `data` of a `profile` record: a whole calibration profile, validated like a profile import. */
export const profileData = profileSchema;

const record = z
  .object({
    id: z.string().min(1).max(200),
    kind: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case word such as "run" or "profile"'),
    // The largest time a Date holds (ms): later values would show as NaN dates.
    createdAt: z.number().int().nonnegative().max(8.64e15),
    title: z.string().max(500),
    data: z.json(),
  })
  .superRefine((r, ctx) => {
    const check = r.kind === 'run' ? runData : r.kind === 'profile' ? profileData : null;
    if (!check) return;
    const res = check.safeParse(r.data);
    if (!res.success) {
      for (const issue of res.error.issues)
        ctx.addIssue({ code: 'custom', message: issue.message, path: ['data', ...issue.path] });
    }
  });

const bundle = z.object({
  schema: z.literal(BUNDLE_SCHEMA),
  exportedAt: z.string(),
  records: z.array(record),
});

export function makeBundle(records: readonly StoredRecord[], now = new Date()): Bundle {
  return { schema: BUNDLE_SCHEMA, exportedAt: now.toISOString(), records: records.map((r) => ({ ...r })) };
}

export type ParseResult = { ok: true; bundle: Bundle } | { ok: false; error: string };

function pathText(path: readonly PropertyKey[]): string {
  return (
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '') || '(top level)'
  );
}

/** Parses and validates a bundle file's text. Never throws. */
export function parseBundle(text: string, fileName = 'the file'): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return {
      ok: false,
      error: `${fileName} is not JSON: ${shownText(e instanceof Error ? e.message : String(e), 200)}`,
    };
  }
  if (typeof json === 'object' && json !== null && 'schema' in json && json.schema !== BUNDLE_SCHEMA) {
    return { ok: false, error: `${fileName} has schema ${JSON.stringify(json.schema)}; expected "${BUNDLE_SCHEMA}"` };
  }
  const res = bundle.safeParse(json);
  if (!res.success) {
    const recs = typeof json === 'object' && json !== null ? (json as { records?: unknown }).records : undefined;
    // Name the record by its id too: "records[3] (id "run-x").data.config.rate: …".
    const where = (path: readonly PropertyKey[]): string => {
      const [head, index] = path;
      const r =
        head === 'records' && typeof index === 'number' && Array.isArray(recs) ? (recs[index] as unknown) : undefined;
      const id = typeof r === 'object' && r !== null ? (r as { id?: unknown }).id : undefined;
      if (typeof id !== 'string' || id === '') return pathText(path);
      const rest = pathText(path.slice(2));
      return `records[${String(index)}] (id ${JSON.stringify(id.slice(0, 60))})${rest === '(top level)' ? '' : `.${rest}`}`;
    };
    const shown = res.error.issues.slice(0, 5).map((i) => `${where(i.path)}: ${i.message}`);
    const more = res.error.issues.length > 5 ? ` (and ${res.error.issues.length - 5} more)` : '';
    return { ok: false, error: `${fileName} is not a valid kvsched bundle: ${shown.join('; ')}${more}` };
  }
  const seen = new Set<string>();
  for (const r of res.data.records) {
    if (seen.has(r.id))
      return { ok: false, error: `${fileName} is not a valid kvsched bundle: record id "${r.id}" appears twice` };
    seen.add(r.id);
  }
  return { ok: true, bundle: res.data as Bundle };
}
