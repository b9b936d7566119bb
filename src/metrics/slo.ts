/**
 * Service-level objectives over a run (docs/cli.md, SLO grammar; docs/model.md, token-level
 * metrics). Grammar of `--slo`:
 *
 *   SLO    := TERM ("," TERM)*
 *   TERM   := [ "p" PCT "-" ] METRIC "=" NUMBER [ UNIT ]
 *   METRIC := ttft | tpot | tbt | latency
 *   PCT    := a decimal in (0, 100], e.g. 50, 90, 99, 99.9
 *   UNIT   := s | ms            (seconds mode only; no unit: the run's unit, s or rounds)
 *
 * A term without PCT is a per-request bound: a request meets `ttft=X` when its TTFT ≤ X,
 * `tpot=X` when its TPOT ≤ X (vacuously when o = 1), `tbt=X` when every gap between its
 * consecutive tokens is ≤ X, `latency=X` when completion − arrival ≤ X. Attainment is the
 * fraction of requests meeting every per-request term (1 when there is none). A term with
 * PCT is a bound on the run: the PCT-th percentile (nearest rank, as in the summary) of
 * the metric over the run (TBT: over all gaps pooled) must be ≤ X. A run meets the SLO at
 * a target attainment A when its attainment ≥ A and every percentile term holds.
 * Each per-request METRIC and each (PCT, METRIC) pair appears at most once
 * (`ttft=…,p50-ttft=…,p99-ttft=…` is fine; `ttft=1s,ttft=2s` is refused).
 */
import type { SimulationResult } from '../engine/engine.ts';
import type { TimeMode } from '../model/types.ts';
import { percentile } from './summary.ts';

export const SLO_METRICS = ['ttft', 'tpot', 'tbt', 'latency'] as const;
export type SloMetric = (typeof SLO_METRICS)[number];

export interface SloTerm {
  readonly metric: SloMetric;
  /** null: a per-request bound; otherwise the run's percentile that must meet the bound. */
  readonly percentile: number | null;
  readonly value: number;
  readonly unit: 's' | 'ms' | null;
  /** The term as written (normalised: no blanks). */
  readonly text: string;
}

export interface Slo {
  readonly terms: readonly SloTerm[];
  readonly text: string;
}

const TERM = /^(?:p(\d+(?:\.\d+)?)-)?([a-z]+)=((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(s|ms)?$/;

/** Parses `--slo`; throws an Error naming the bad term. */
export function parseSlo(text: string): Slo {
  const parts = text
    .split(',')
    .map((s) => s.replace(/\s+/g, ''))
    .filter((s) => s !== '');
  if (parts.length === 0) throw new Error('empty SLO (e.g. ttft=2s,tpot=0.2s)');
  const terms: SloTerm[] = [];
  const seen = new Set<string>();
  for (const part of parts) {
    const m = TERM.exec(part);
    if (!m) throw new Error(`"${part}" is not a term METRIC=NUMBER[s|ms] or pPCT-METRIC=NUMBER[s|ms]`);
    const [, pct, metric, num, unit] = m;
    if (!(SLO_METRICS as readonly string[]).includes(metric as string)) {
      throw new Error(`"${part}": unknown metric "${metric}" (known: ${SLO_METRICS.join(', ')})`);
    }
    const p = pct === undefined ? null : Number(pct);
    if (p !== null && !(p > 0 && p <= 100)) throw new Error(`"${part}": the percentile must be in (0, 100]`);
    const value = Number(num);
    if (!(value > 0 && Number.isFinite(value))) throw new Error(`"${part}": the bound must be > 0`);
    const key = `${p === null ? '' : `p${p}-`}${metric}`;
    if (seen.has(key)) throw new Error(`"${part}": ${key} given twice`);
    seen.add(key);
    terms.push({
      metric: metric as SloMetric,
      percentile: p,
      value,
      unit: (unit as 's' | 'ms' | undefined) ?? null,
      text: part,
    });
  }
  return { terms, text: terms.map((t) => t.text).join(',') };
}

/** Checks the units against the time mode (rounds mode has no seconds); throws an Error. */
export function checkSloMode(slo: Slo, mode: TimeMode): void {
  if (mode !== 'rounds') return;
  const bad = slo.terms.find((t) => t.unit !== null);
  if (bad) throw new Error(`"${bad.text}": rounds mode counts time in rounds; give the bound without s or ms`);
}

/** The bound in the engine's raw unit: µs in seconds mode, rounds in rounds mode. */
export function sloBound(t: SloTerm, mode: TimeMode): number {
  if (mode === 'rounds') return t.value;
  return t.unit === 'ms' ? t.value * 1e3 : t.value * 1e6;
}

export interface PercentileCheck {
  readonly term: string;
  /** The run's percentile and the bound, in the display unit (s or rounds); NaN: unknown. */
  readonly value: number;
  readonly bound: number;
  readonly met: boolean;
}

export interface SloOutcome {
  readonly slo: string;
  /** Fraction of requests meeting every per-request term; NaN when unknown (no token times). */
  readonly attainment: number;
  readonly percentiles: readonly PercentileCheck[];
  /** Every percentile term holds (true when there is none). */
  readonly percentilesMet: boolean;
}

/** Whether a run meets the SLO at a target attainment. */
export function sloMet(o: SloOutcome, target: number): boolean {
  return o.attainment >= target && o.percentilesMet;
}

/** Per-request values of one metric in raw units (NaN where unknown), over the recorded requests. */
function perRequest(result: SimulationResult, metric: SloMetric): Float64Array {
  const t = result.requests;
  const arrival = t.column('arrival');
  const first = t.column('firstToken');
  const completion = t.column('completion');
  const output = t.column('output');
  const maxGap = t.column('maxGap');
  const out = new Float64Array(t.count);
  let k = 0;
  for (let id = 0; id < t.length; id++) {
    if (!t.has(id)) continue;
    const o = output[id] as number;
    const c = completion[id] as number;
    let v: number;
    if (metric === 'ttft') v = (first[id] as number) - (arrival[id] as number);
    else if (metric === 'latency') v = c - (arrival[id] as number);
    else if (metric === 'tbt') v = maxGap[id] as number;
    else v = o >= 2 ? (c - (first[id] as number)) / (o - 1) : Number.NEGATIVE_INFINITY; // o = 1: met vacuously
    out[k++] = v;
  }
  return out;
}

export function evaluateSlo(result: SimulationResult, slo: Slo): SloOutcome {
  const mode = result.mode;
  const display = mode === 'seconds' ? (x: number) => x / 1e6 : (x: number) => x;
  const n = result.requests.count;
  const perReq = slo.terms.filter((t) => t.percentile === null);
  let attainment = 1;
  if (perReq.length > 0 && n > 0) {
    const ok = new Uint8Array(n).fill(1);
    let unknown = false;
    for (const t of perReq) {
      const vals = perRequest(result, t.metric);
      const bound = sloBound(t, mode);
      for (let i = 0; i < n; i++) {
        const v = vals[i] as number;
        if (Number.isNaN(v)) unknown = true;
        else if (v > bound) ok[i] = 0;
      }
    }
    let met = 0;
    for (let i = 0; i < n; i++) met += ok[i] as number;
    attainment = unknown ? Number.NaN : met / n;
  }
  const percentiles: PercentileCheck[] = [];
  for (const t of slo.terms) {
    if (t.percentile === null) continue;
    let v: number;
    if (t.metric === 'tbt') {
      const g = result.tokenGaps;
      // No gaps recorded: unknown. No gap at all (every o = 1): nothing can violate the bound.
      v = !g ? Number.NaN : g.length === 0 ? 0 : (g.percentiles([t.percentile])[0] as number);
    } else {
      const sample =
        t.metric === 'tpot'
          ? perRequest(result, 'tpot').filter((x) => x !== Number.NEGATIVE_INFINITY)
          : perRequest(result, t.metric);
      sample.sort();
      // An unknown value sorts last (NaN); any unknown makes the percentile unknown.
      const unknown = sample.length > 0 && Number.isNaN(sample[sample.length - 1] as number);
      // No sample (e.g. TPOT when every o = 1): nothing can violate the bound.
      v = unknown ? Number.NaN : sample.length === 0 ? 0 : percentile(sample, t.percentile);
    }
    const bound = sloBound(t, mode);
    percentiles.push({ term: t.text, value: display(v), bound: display(bound), met: v <= bound });
  }
  return { slo: slo.text, attainment, percentiles, percentilesMet: percentiles.every((p) => p.met) };
}
