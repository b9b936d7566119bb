/**
 * The GPU engine's buffer layout and enums, declared once (issue 14). Everything the
 * host (./engine.ts) and the kernel (shaders/engine/scheduler.wgsl) must agree on lives
 * here: each record's fields in order, its stride in u32 words, and the enums (policy
 * kind, replica status, request phase, scratch sections).
 *
 * - The WGSL side is generated: scripts/gen-engine-layout.ts writes
 *   shaders/engine/layout.wgsl (`const P_KIND: u32 = 3u;`, `const KIND_VLLM: u32 = 4u;`,
 *   `struct Cfg`, …), which the shader loaders prepend to scheduler.wgsl;
 *   test/node/kernel-sources.test.ts fails when the committed file drifts.
 * - The host reads and writes records only through `RecordDecl.view()` cursors, whose
 *   properties are the field names (`view.at(r).status`), never raw indices.
 *
 * A `u64` field is two words, low then high (WGSL `<NAME>_LO`, `<NAME>_HI`); its view
 * property reads and writes the whole value, and `<name>Lo` / `<name>Hi` the halves.
 * WGSL constant names are the field names in UPPER_SNAKE case with the record's prefix.
 */

import type { PolicyKind } from '../policies/registry.ts';

const TWO32 = 2 ** 32;

export interface FieldDecl {
  readonly name: string;
  readonly type?: 'u64';
  /** Shown as a comment in the generated WGSL. */
  readonly doc?: string;
}

/** Property names of a field list's view: u64 fields also get `<name>Lo` and `<name>Hi`. */
type FieldNames<F> = F extends { readonly name: infer N extends string; readonly type: 'u64' }
  ? N | `${N}Lo` | `${N}Hi`
  : F extends { readonly name: infer N extends string }
    ? N
    : never;

/** A cursor over an array of records: `at(i)` moves it to record i (and returns it). */
export type RecordView<N extends string> = { -readonly [K in N]: number } & {
  at(i: number): RecordView<N>;
};

export interface RecordDecl<N extends string> {
  /** WGSL constant prefix, e.g. `P` → `P_KIND`, `P_STRIDE`. */
  readonly prefix: string;
  readonly title: string;
  /** Words per record (at least the fields' words; the rest is padding). */
  readonly stride: number;
  readonly fields: readonly FieldDecl[];
  /** Word offset of every view property within a record. */
  readonly offset: Readonly<Record<N, number>>;
  /** Zeroed words for `count` records. */
  alloc(count: number): Uint32Array<ArrayBuffer>;
  /** A cursor over `words`, at record 0. */
  view(words: Uint32Array): RecordView<N>;
}

/** `peakKv` → `PEAK_KV`, `maxTokens` → `MAX_TOKENS`, `mc-fcfs` → `MC_FCFS`. */
export function upperSnake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toUpperCase();
}

function checkU32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v >= TWO32) {
    throw new RangeError(`GPU record field ${what} = ${v} does not fit u32`);
  }
  return v;
}

export function record<const F extends readonly FieldDecl[]>(
  prefix: string,
  title: string,
  stride: number,
  fields: F,
): RecordDecl<FieldNames<F[number]>> {
  type N = FieldNames<F[number]>;
  const offset: Record<string, number> = {};
  let w = 0;
  for (const f of fields) {
    if (f.name in offset) throw new Error(`layout ${prefix}: field ${f.name} declared twice`);
    if (f.name === 'at' || f.name.startsWith('$')) {
      throw new Error(`layout ${prefix}: field name ${f.name} is reserved`);
    }
    offset[f.name] = w;
    if (f.type === 'u64') {
      offset[`${f.name}Lo`] = w;
      offset[`${f.name}Hi`] = w + 1;
      w += 2;
    } else {
      w += 1;
    }
  }
  if (w > stride) throw new Error(`layout ${prefix}: ${w} words of fields exceed the stride ${stride}`);

  // One prototype per record kind with a getter/setter per field: views are cheap cursors.
  class Cursor {
    $base = 0;
    constructor(readonly $words: Uint32Array) {}
    at(i: number): this {
      this.$base = i * stride;
      return this;
    }
  }
  for (const f of fields) {
    const o = offset[f.name] as number;
    const label = `${prefix}.${f.name}`;
    if (f.type === 'u64') {
      Object.defineProperty(Cursor.prototype, f.name, {
        get(this: Cursor) {
          return (this.$words[this.$base + o] as number) + (this.$words[this.$base + o + 1] as number) * TWO32;
        },
        set(this: Cursor, v: number) {
          if (!Number.isSafeInteger(v) || v < 0) {
            throw new RangeError(`GPU record field ${label} = ${v} is not a u64 safe integer`);
          }
          this.$words[this.$base + o] = v % TWO32;
          this.$words[this.$base + o + 1] = Math.floor(v / TWO32);
        },
      });
      for (const [half, k] of [
        ['Lo', 0],
        ['Hi', 1],
      ] as const) {
        Object.defineProperty(Cursor.prototype, `${f.name}${half}`, {
          get(this: Cursor) {
            return this.$words[this.$base + o + k] as number;
          },
          set(this: Cursor, v: number) {
            this.$words[this.$base + o + k] = checkU32(v, `${label}${half}`);
          },
        });
      }
    } else {
      Object.defineProperty(Cursor.prototype, f.name, {
        get(this: Cursor) {
          return this.$words[this.$base + o] as number;
        },
        set(this: Cursor, v: number) {
          this.$words[this.$base + o] = checkU32(v, label);
        },
      });
    }
  }
  return {
    prefix,
    title,
    stride,
    fields,
    offset: offset as Record<N, number>,
    alloc: (count) => new Uint32Array(count * stride),
    view: (words) => new Cursor(words) as unknown as RecordView<N>,
  };
}

export interface EnumDecl<K extends string> {
  /** WGSL constant prefix, e.g. `KIND` → `KIND_VLLM`. */
  readonly prefix: string;
  readonly title: string;
  readonly names: readonly K[];
  /** Value of every name (its position in `names`). */
  readonly value: Readonly<Record<K, number>>;
  /** The name of a value, or undefined. */
  nameOf(v: number): K | undefined;
}

export function enumDecl<const K extends string>(prefix: string, title: string, names: readonly K[]): EnumDecl<K> {
  const value = Object.fromEntries(names.map((n, i) => [n, i])) as Record<K, number>;
  return { prefix, title, names, value, nameOf: (v) => names[v] };
}

// ---------------------------------------------------------------- enums

/**
 * Policies with a WGSL port, named as the registry's PolicyConfig['kind'] (checked at
 * compile time); engine.ts GPU_PORTS must have an entry for each.
 */
export const POLICY_KIND = enumDecl('KIND', 'policy kind (P_KIND)', [
  'mcsf',
  'mc-fcfs',
  'alpha-greedy',
  'alpha-clearing',
  'vllm',
  'sarathi',
  'mcsf-budget',
  'orca',
] as const satisfies readonly PolicyKind[]);
export type GpuPolicyKind = (typeof POLICY_KIND.names)[number];

export const STATUS = enumDecl('STATUS', 'replica status (S_STATUS)', ['running', 'done', 'stuck', 'livelock']);

export const PHASE = enumDecl('PHASE', 'request phase (R_PHASE)', ['waiting', 'running', 'done']);

/** Scratch sections, each N + 1 words per replica (see xi() in scheduler.wgsl). */
export const SCRATCH = enumDecl('SEC', 'scratch section', [
  'rl', // look-ahead: running list (slots)
  'rl2', // look-ahead: merged running list
  'rlW', // look-ahead: running list, kv weights
  'cl', // look-ahead: candidate list (slots)
  'clS', // look-ahead: candidate list, kv weights
  'deque', // look-ahead: admitted list; vLLM, Sarathi, Orca: waiting deque
  'vr', // vLLM: running list; Sarathi, Orca: held list; mcsf-budget: running list (admission order)
  'bl', // vLLM, Sarathi, Orca, mcsf-budget: batch list (kept as the last batch between rounds)
]);
export const SCRATCH_SECTIONS = SCRATCH.names.length;

// ---------------------------------------------------------------- records

/** Per replica, read-only (binding 0). */
export const PARAMS = record('P', 'replica parameters (read-only)', 16, [
  { name: 'off', doc: 'first request index of the replica' },
  { name: 'n', doc: 'requests' },
  { name: 'm', doc: 'KV capacity M' },
  { name: 'kind', doc: 'POLICY_KIND' },
  { name: 'admit', doc: 'floor((1-alpha) M)' },
  { name: 'target', doc: 'overflow tgt: M, or floor((1-beta) M)' },
  { name: 'blocks', doc: 'vLLM, Sarathi, Orca: floor(M / 16)' },
  { name: 'watermark', doc: 'vLLM, Sarathi: floor(0.01 * blocks) as JS computes it' },
  { name: 'maxTokens', doc: 'vLLM' },
  { name: 'maxBatch', doc: 'vLLM, Sarathi; Orca: min(maxBatch, floor(blocks / perSeq))' },
  { name: 'seconds', doc: '1: seconds mode' },
  { name: 'watchdog', doc: '4 M + 64, or NONE: the policy cannot livelock' },
  { name: 'cost', doc: '1: evaluate the cost model (seconds mode, or energy in rounds mode)' },
  { name: 'scr', doc: 'scratch base (u32 index)' },
  { name: 'chunk', doc: 'Sarathi, mcsf-budget: token budget per round' },
  { name: 'perSeq', doc: 'Orca: blocks reserved per request, floor(maxTokens / 16)' },
]);

/** Per replica, read-write (binding 3); the host reads it after every submit. */
export const STATE = record('S', 'replica state (read-write)', 32, [
  { name: 'status', doc: 'STATUS' },
  { name: 'now', type: 'u64' },
  { name: 'round' },
  { name: 'pend', doc: 'requests enqueued (arrival rank)' },
  { name: 'wait' },
  { name: 'run' },
  { name: 'done' },
  { name: 'retried' },
  { name: 'rsc', doc: 'rounds since completion' },
  { name: 'esc', doc: 'evictions since completion' },
  { name: 'alloc', doc: 'vLLM, Sarathi, Orca: allocated blocks' },
  { name: 'qHead', doc: 'vLLM deque' },
  { name: 'qLen' },
  { name: 'rlLen', doc: 'look-ahead: running list length' },
  { name: 'vrLen', doc: 'SEC_VR list length' },
  // run totals (the stats the host reports)
  { name: 'rounds' },
  { name: 'evictions' },
  { name: 'peakKv' },
  { name: 'busy', type: 'u64' },
  { name: 'tokens' },
  { name: 'kvTime', type: 'u64', doc: 'sum kv * duration' },
  { name: 'costBusy', type: 'u64', doc: 'sum of cost-model micros, for energy' },
  { name: 'steps', doc: 'loop iterations so far (progress)' },
  // per-iteration scratch (not meaningful between dispatches)
  { name: 'adm' },
  { name: 'evi' },
  { name: 'blen', doc: 'batch length; SEC_BL keeps the last batch between rounds' },
  { name: 'end', type: 'u64' },
]);

/** Per request, read-write (binding 4); the host reads it at the end. */
export const REQ_STATE = record('R', 'per-request state (read-write)', 14, [
  { name: 'phase', doc: 'PHASE' },
  { name: 'gen', doc: 'tokens generated since the last (re)start' },
  { name: 'restarts' },
  { name: 'prefill', doc: '1: prefill pending' },
  { name: 'startRound' },
  { name: 'blocks', doc: 'vLLM blocks held' },
  { name: 'start', type: 'u64' },
  { name: 'firstToken', type: 'u64', doc: 'high word NONE until the first token' },
  { name: 'completion', type: 'u64' },
  { name: 'prefilled', doc: 'prefill tokens processed in earlier rounds (chunked prefill)' },
  { name: 'chunk', doc: 'this round only: prefill tokens it processes; 0 = the rest' },
]);

/** Per request, read-only (binding 1), in the policy's static slot order. */
export const REQ_INPUT = record('Q', 'request inputs (read-only)', 8, [
  { name: 'arrival', type: 'u64' },
  { name: 'prompt' },
  { name: 'output' },
  { name: 'planned', doc: 'min(predicted, M - prompt)' },
  { name: 'idRank', doc: 'rank of the id within the replica' },
  { name: 'arrSlot', doc: 'at index (off + k): slot of the k-th arrival' },
]);

/** The a100 cost model's header in the knots buffer (binding 2); tables follow as (x, y) pairs. */
export const KNOTS = record('K', 'cost-model knots header (read-only)', 16, [
  { name: 'layerCount', doc: 'knots in the layer table' },
  { name: 'layerOff', doc: 'word offset of its (x, y) pairs' },
  { name: 'embeddingCount' },
  { name: 'embeddingOff' },
  { name: 'allReduceCount' },
  { name: 'allReduceOff' },
  { name: 'layers' },
  { name: 'nsPerMicro' },
  { name: 'allReduceBytesPerToken' },
  { name: 'allReduces', doc: 'layers x all-reduces per layer' },
  { name: 'kvBytesPerToken', doc: 'per GPU' },
  { name: 'decodeBytesPerMicro' },
  { name: 'prefillFlopPerSquare', doc: 'per GPU' },
  { name: 'prefillFlopPerMicro' },
  { name: 'roundOverhead', doc: 'micros' },
]);

/** One row of the cost probe (entry point cost_probe, in the scratch binding). */
export const PROBE = record('X', 'cost-probe row (read-write)', 5, [
  { name: 'prefillTokens' },
  { name: 'prefillSquares' },
  { name: 'decodeRequests' },
  { name: 'decodeContext' },
  { name: 'micros', doc: 'output' },
]);

/** The uniform (binding 6), generated as `struct Cfg`. */
export const CFG = record('CFG', 'dispatch configuration (uniform)', 4, [
  { name: 'steps', doc: 'loop iterations per dispatch' },
  { name: 'base' },
  { name: 'count', doc: 'replicas (main) or probe rows (cost_probe)' },
  { name: 'pad' },
]);

/** Records whose offsets become WGSL constants (CFG becomes a struct instead). */
export const WGSL_RECORDS = [PARAMS, STATE, REQ_STATE, REQ_INPUT, KNOTS, PROBE] as const;
export const WGSL_ENUMS = [POLICY_KIND, STATUS, PHASE, SCRATCH] as const;

/** Marks a word that holds no value (a request's first-token time before its first token). */
export const NONE = 0xffffffff;
