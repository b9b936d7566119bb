/**
 * Generate src/cost/tables/a100-llama2-70b-tp2.ts from Vidur's A100 profiles.
 *
 *   npx tsx scripts/gen-cost-tables.ts
 *
 * Inputs (relative to the project root; vendored from microsoft/vidur, MIT, see data/README.md):
 *   data/vidur/a100/llama2-70b-mlp.csv              per-layer operator times (ms)
 *   data/vidur/a100/all-reduce-pairwise-nvlink.csv  all-reduce times (ms)
 *
 * Rules (each is deterministic; the test re-runs `generateA100Tables` and compares
 * with the committed module byte for byte):
 *  1. Rows: mlp.csv rows with num_tensor_parallel_workers == 2; all-reduce rows with
 *     num_workers == 2. Every value used is a *median* (ms), converted to integer ns
 *     with Math.round(ms · 10⁶) per value (medians have ≤ 4 decimals in ms, so this
 *     only strips float noise), then summed as integers.
 *  2. Duplicates: num_tokens 2048 and 4096 appear twice in mlp.csv, size 16777216
 *     twice in the all-reduce file. Keep the row with the smaller total (sum of all
 *     ten op medians incl. emb, resp. the all-reduce median); on a tie, the earlier row.
 *  3. Split: `emb` (token-embedding lookup) runs once per forward pass, not per layer,
 *     so it gets its own table; the layer table sums the other nine op medians
 *     (input_layernorm, attn_pre_proj, attn_rope, attn_post_proj,
 *     post_attention_layernorm, mlp_up_proj, mlp_act, mlp_down_proj, add).
 *  4. Monotone: measurements are noisy (e.g. the layer sum dips from 4032 to 4096
 *     tokens; small all-reduces jitter between 10 and 64 µs). A cost model must not
 *     get cheaper with more work, so each table is replaced by its isotonic
 *     (non-decreasing) least-squares fit — pool-adjacent-violators, equal weights —
 *     and the pooled means are rounded to integer ns (Math.round is monotone, so the
 *     result stays non-decreasing).
 *  5. Compress: an interior knot whose y equals both neighbours' y lies on a flat run;
 *     dropping it changes no interpolated value (exact, not approximate).
 *  6. Extrapolation knot: `interp` extrapolates above the last knot from the last two
 *     knots, but after step 4 the top of a table can be flat, which would make work
 *     beyond the measured range free. So one synthetic knot is appended at
 *     x = 2 · x_last, y = y_last + round(s · x_last), where s ≥ 0 is the least-squares
 *     slope of the raw (deduplicated, not pooled) points with x ≥ x_last / 2.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Papa from 'papaparse';

export const MLP_CSV = 'data/vidur/a100/llama2-70b-mlp.csv';
export const ALL_REDUCE_CSV = 'data/vidur/a100/all-reduce-pairwise-nvlink.csv';
export const OUTPUT_MODULE = 'src/cost/tables/a100-llama2-70b-tp2.ts';

/** Op columns of mlp.csv, in file order. */
export const MLP_OPS = [
  'emb',
  'input_layernorm',
  'attn_pre_proj',
  'attn_rope',
  'attn_post_proj',
  'post_attention_layernorm',
  'mlp_up_proj',
  'mlp_act',
  'mlp_down_proj',
  'add',
] as const;

const TP_DEGREE = 2;

type Row = Record<string, string>;
type Point = [number, number];

function parseCsv(text: string, what: string): Row[] {
  const res = Papa.parse<Row>(text, { header: true, skipEmptyLines: true, dynamicTyping: false });
  if (res.errors.length > 0) {
    const e = res.errors[0];
    throw new Error(`${what}: CSV parse error: ${e?.message ?? 'unknown'} (row ${e?.row ?? '?'})`);
  }
  return res.data;
}

function num(row: Row, col: string, what: string): number {
  const s = row[col];
  const v = s === undefined || s.trim() === '' ? NaN : Number(s);
  if (!Number.isFinite(v)) throw new Error(`${what}: column ${col} is not a number: ${String(s)}`);
  return v;
}

function int(row: Row, col: string, what: string): number {
  const v = num(row, col, what);
  if (!Number.isSafeInteger(v)) throw new Error(`${what}: column ${col} is not an integer: ${v}`);
  return v;
}

/** Median in ms → integer ns. */
function medianNs(row: Row, op: string, what: string): number {
  const ns = Math.round(num(row, `time_stats.${op}.median`, what) * 1e6);
  if (ns < 0) throw new Error(`${what}: negative median for ${op}`);
  return ns;
}

/** Keep, per key, the candidate with the smaller total; the earlier one on a tie. Sorted by key. */
function dedupe<T>(items: readonly T[], key: (t: T) => number, total: (t: T) => number): T[] {
  const best = new Map<number, T>();
  for (const it of items) {
    const k = key(it);
    const prev = best.get(k);
    if (prev === undefined || total(it) < total(prev)) best.set(k, it);
  }
  return [...best.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
}

/** Isotonic (non-decreasing) least-squares fit, equal weights (pool adjacent violators), rounded to integers. */
export function isotonicRound(ys: readonly number[]): number[] {
  const means: number[] = [];
  const sizes: number[] = [];
  for (const y of ys) {
    let m = y;
    let n = 1;
    while (means.length > 0 && (means[means.length - 1] ?? 0) > m) {
      const pm = means.pop() ?? 0;
      const pn = sizes.pop() ?? 0;
      m = (pm * pn + m * n) / (pn + n);
      n += pn;
    }
    means.push(m);
    sizes.push(n);
  }
  const out: number[] = [];
  for (let b = 0; b < means.length; b++) {
    const v = Math.round(means[b] ?? 0);
    for (let j = 0; j < (sizes[b] ?? 0); j++) out.push(v);
  }
  return out;
}

/** Drop interior knots of flat runs (y equal to both neighbours): interpolation is unchanged. */
export function dropFlatInterior(points: readonly Point[]): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (p === undefined) continue;
    const prev = points[i - 1];
    const next = points[i + 1];
    if (prev !== undefined && next !== undefined && prev[1] === p[1] && next[1] === p[1]) continue;
    out.push(p);
  }
  return out;
}

/** Least-squares slope (≥ 0) of the raw points with x ≥ x_last / 2. */
function tailSlope(raw: readonly Point[]): number {
  const last = raw[raw.length - 1];
  if (last === undefined) throw new Error('empty table');
  const tail = raw.filter((p) => p[0] * 2 >= last[0]);
  if (tail.length < 2) return 0;
  const mx = tail.reduce((s, p) => s + p[0], 0) / tail.length;
  const my = tail.reduce((s, p) => s + p[1], 0) / tail.length;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of tail) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  return sxx > 0 ? Math.max(0, sxy / sxx) : 0;
}

export interface BuiltTable {
  /** Knots used by the cost model (monotone, compressed, plus the synthetic last knot). */
  readonly knots: Point[];
  /** Measured points after dedupe (before pooling). */
  readonly rawCount: number;
  /** Least-squares tail slope used for the synthetic knot (y units per x unit). */
  readonly tailSlope: number;
}

export function buildTable(raw: readonly Point[]): BuiltTable {
  const mono = isotonicRound(raw.map((p) => p[1]));
  const points: Point[] = raw.map((p, i) => [p[0], mono[i] ?? 0]);
  const knots = dropFlatInterior(points);
  const last = knots[knots.length - 1];
  if (last === undefined) throw new Error('empty table');
  const s = tailSlope(raw);
  knots.push([2 * last[0], last[1] + Math.round(s * last[0])]);
  return { knots, rawCount: raw.length, tailSlope: s };
}

export interface A100Tables {
  readonly layer: BuiltTable;
  readonly embedding: BuiltTable;
  readonly allReduce: BuiltTable;
}

export function buildA100Tables(mlpCsv: string, allReduceCsv: string): A100Tables {
  const mlpRows = parseCsv(mlpCsv, 'mlp.csv').filter(
    (r) => int(r, 'num_tensor_parallel_workers', 'mlp.csv') === TP_DEGREE,
  );
  const mlp = mlpRows.map((r) => {
    const ops = MLP_OPS.map((op) => medianNs(r, op, 'mlp.csv'));
    return { tokens: int(r, 'num_tokens', 'mlp.csv'), ops, total: ops.reduce((a, b) => a + b, 0) };
  });
  const mlpDedup = dedupe(
    mlp,
    (m) => m.tokens,
    (m) => m.total,
  );
  const embRaw: Point[] = mlpDedup.map((m) => [m.tokens, m.ops[0] ?? 0]);
  const layerRaw: Point[] = mlpDedup.map((m) => [m.tokens, m.total - (m.ops[0] ?? 0)]);

  const arRows = parseCsv(allReduceCsv, 'all_reduce.csv').filter(
    (r) => int(r, 'num_workers', 'all_reduce.csv') === TP_DEGREE && r['collective'] === 'all_reduce',
  );
  const ar = arRows.map((r) => ({
    size: int(r, 'size', 'all_reduce.csv'),
    ns: medianNs(r, 'all_reduce', 'all_reduce.csv'),
  }));
  const arDedup = dedupe(
    ar,
    (a) => a.size,
    (a) => a.ns,
  );
  const arRaw: Point[] = arDedup.map((a) => [a.size, a.ns]);

  if (layerRaw.length === 0 || arRaw.length === 0) throw new Error('no TP-2 rows found');
  return { layer: buildTable(layerRaw), embedding: buildTable(embRaw), allReduce: buildTable(arRaw) };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function emitKnots(name: string, doc: string, t: BuiltTable): string {
  const lines = t.knots.map(([x, y]) => `  [${x}, ${y}],`);
  return `/** ${doc} ${t.rawCount} measured points → ${t.knots.length} knots (last one synthetic, tail slope ${t.tailSlope.toPrecision(6)}). */\nexport const ${name}: Knots = [\n${lines.join('\n')}\n];\n`;
}

/** The text of the generated module, from the two CSV texts. */
export function generateA100Tables(mlpCsv: string, allReduceCsv: string): string {
  const t = buildA100Tables(mlpCsv, allReduceCsv);
  return [
    '// GENERATED FILE — DO NOT EDIT. Regenerate with: npx tsx scripts/gen-cost-tables.ts',
    '// Generator: scripts/gen-cost-tables.ts (rules: dedupe, emb split, isotonic fit, flat-run',
    '// compression, synthetic extrapolation knot — see that file).',
    `// Source: ${MLP_CSV}`,
    `//   sha256 ${sha256(mlpCsv)}`,
    `// Source: ${ALL_REDUCE_CSV}`,
    `//   sha256 ${sha256(allReduceCsv)}`,
    '// Data: microsoft/vidur profiling (MIT). Llama-2-70B on NVIDIA A100, tensor-parallel degree 2.',
    '// Knots are integer [x, y] pairs, y in nanoseconds, for src/cost/piecewise.ts `interp`.',
    '',
    "import type { Knots } from '../piecewise.ts';",
    '',
    emitKnots(
      'LAYER_NS_BY_TOKENS',
      'One transformer layer, every non-attention operator except emb (sum of medians, ns), by tokens in the batch.',
      t.layer,
    ),
    emitKnots(
      'EMBEDDING_NS_BY_TOKENS',
      'Token embedding, once per forward pass (median, ns), by tokens in the batch.',
      t.embedding,
    ),
    emitKnots(
      'ALL_REDUCE_NS_BY_BYTES',
      'One all-reduce between 2 A100s over NVLink (median, ns), by message size in bytes.',
      t.allReduce,
    ),
  ].join('\n');
}

function main(): void {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const mlp = readFileSync(resolve(root, MLP_CSV), 'utf8');
  const arr = readFileSync(resolve(root, ALL_REDUCE_CSV), 'utf8');
  const out = resolve(root, OUTPUT_MODULE);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, generateA100Tables(mlp, arr));
  console.log(`wrote ${OUTPUT_MODULE}`);
}

const invoked = process.argv[1];
if (invoked !== undefined && import.meta.url === pathToFileURL(resolve(invoked)).href) main();
