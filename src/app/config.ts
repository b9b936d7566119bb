/**
 * The experiment configuration the UI edits, its URL form, and its translation into
 * the worker's RunConfig (the same inputs `kvsched simulate` takes).
 */
import { DEFAULT_COST_MODEL } from '../cost/registry.ts';
import type { TimeMode } from '../model/types.ts';
import { PAPER_POLICIES } from '../policies/registry.ts';
import type { RunConfig, RunWorkload } from '../worker/protocol.ts';

export const PRESETS = ['lmsys-high', 'lmsys-low', 'lmsys', 'synthetic-zero', 'synthetic-poisson', 'trace'] as const;
export type Preset = (typeof PRESETS)[number];

export const PRESET_LABELS: Record<Preset, string> = {
  'lmsys-high': 'LMSYS, high demand (λ = 50 /s)',
  'lmsys-low': 'LMSYS, low demand (λ = 10 /s)',
  lmsys: 'LMSYS, custom λ and n',
  'synthetic-zero': 'Paper synthetic, all at 0',
  'synthetic-poisson': 'Paper synthetic, Poisson',
  trace: 'Trace CSV (upload)',
};

export interface ExperimentConfig {
  preset: Preset;
  /** lmsys arrival rate per time unit. */
  rate: number;
  /** lmsys number of requests. */
  requests: number;
  /** paper-synthetic number of requests; null: drawn (U{40..60}). */
  synthRequests: number | null;
  mode: TimeMode;
  /** KV capacity (tokens); null: the workload's default. */
  memory: number | null;
  policies: string[];
  /** `exact` or `noise:E`. */
  predict: string;
  costModel: string;
  engine: 'cpu' | 'gpu';
  seed: number;
  /** Arrival rates of the sweep chart. */
  sweepRates: number[];
  /** Name of the uploaded trace (its text is not part of the URL). */
  traceName: string | null;
}

export function isLmsys(p: Preset): boolean {
  return p === 'lmsys-high' || p === 'lmsys-low' || p === 'lmsys';
}

export function defaultMode(p: Preset): TimeMode {
  return p === 'synthetic-zero' || p === 'synthetic-poisson' ? 'rounds' : 'seconds';
}

export function defaultConfig(): ExperimentConfig {
  return {
    preset: 'lmsys-high',
    rate: 50,
    requests: 10_000,
    synthRequests: null,
    mode: 'seconds',
    memory: null,
    policies: [...PAPER_POLICIES],
    predict: 'exact',
    costModel: DEFAULT_COST_MODEL,
    engine: 'cpu',
    seed: 1,
    sweepRates: [10, 20, 30, 40, 50],
    traceName: null,
  };
}

/** The configuration after choosing a preset (rate and time mode follow the preset). */
export function applyPreset(c: ExperimentConfig, preset: Preset): ExperimentConfig {
  const next: ExperimentConfig = { ...c, preset, mode: defaultMode(preset) };
  if (preset === 'lmsys-high') next.rate = 50;
  if (preset === 'lmsys-low') next.rate = 10;
  return next;
}

function num(p: URLSearchParams, key: string, min: number, max: number, integer: boolean): number | undefined {
  const v = p.get(key);
  if (v === null || v.trim() === '') return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x < min || x > max || (integer && !Number.isInteger(x))) return undefined;
  return x;
}

/** Reads a configuration from URL params; missing or invalid values keep their defaults. */
export function configFromParams(p: URLSearchParams): ExperimentConfig {
  const c = defaultConfig();
  const preset = p.get('preset');
  if (preset !== null && (PRESETS as readonly string[]).includes(preset)) {
    Object.assign(c, applyPreset(c, preset as Preset));
  }
  c.rate = num(p, 'rate', 1e-9, 1e9, false) ?? c.rate;
  c.requests = num(p, 'n', 1, 10_000_000, true) ?? c.requests;
  c.synthRequests = num(p, 'sn', 1, 100_000, true) ?? null;
  const mode = p.get('mode');
  if (mode === 'rounds' || mode === 'seconds') c.mode = mode;
  c.memory = num(p, 'mem', 2, 2 ** 31 - 1, true) ?? null;
  const pol = p.get('pol');
  if (pol !== null) {
    const list = pol.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (list.length > 0) c.policies = list;
  }
  c.predict = p.get('pred') ?? c.predict;
  c.costModel = p.get('cost') ?? c.costModel;
  if (p.get('eng') === 'gpu') c.engine = 'gpu';
  c.seed = num(p, 'seed', 0, 0xffffffff, true) ?? c.seed;
  const sweep = p.get('sweep');
  if (sweep !== null) {
    const rates = sweep.split(',').map(Number).filter((x) => Number.isFinite(x) && x > 0);
    if (rates.length > 0) c.sweepRates = rates;
  }
  c.traceName = p.get('trace');
  return c;
}

/** URL params for a configuration (only what differs from the defaults, plus the preset). */
export function configToParams(c: ExperimentConfig): URLSearchParams {
  const d = defaultConfig();
  const p = new URLSearchParams();
  p.set('preset', c.preset);
  if (isLmsys(c.preset)) {
    if (c.rate !== applyPreset(d, c.preset).rate || c.preset === 'lmsys') p.set('rate', String(c.rate));
    if (c.requests !== d.requests) p.set('n', String(c.requests));
  }
  if (c.synthRequests !== null && c.preset.startsWith('synthetic')) p.set('sn', String(c.synthRequests));
  if (c.mode !== defaultMode(c.preset)) p.set('mode', c.mode);
  if (c.memory !== null) p.set('mem', String(c.memory));
  if (c.policies.join(',') !== d.policies.join(',')) p.set('pol', c.policies.join(','));
  if (c.predict !== d.predict) p.set('pred', c.predict);
  if (c.costModel !== d.costModel) p.set('cost', c.costModel);
  if (c.engine !== d.engine) p.set('eng', c.engine);
  if (c.seed !== d.seed) p.set('seed', String(c.seed));
  if (c.sweepRates.join(',') !== d.sweepRates.join(',')) p.set('sweep', c.sweepRates.join(','));
  if (c.preset === 'trace' && c.traceName !== null) p.set('trace', c.traceName);
  return p;
}

/** The worker's RunConfig, or a message saying what is missing. */
export function toRunConfig(c: ExperimentConfig, trace: { name: string; text: string } | null): RunConfig | string {
  let workload: RunWorkload;
  if (isLmsys(c.preset)) workload = { kind: 'lmsys', requests: c.requests, rate: c.rate };
  else if (c.preset === 'synthetic-zero' || c.preset === 'synthetic-poisson') {
    workload = { kind: 'paper-synthetic', arrivals: c.preset === 'synthetic-zero' ? 'zero' : 'poisson', ...(c.synthRequests !== null ? { requests: c.synthRequests } : {}) };
  } else {
    if (!trace) return c.traceName ? `Upload the trace file ${c.traceName} again (trace contents are not kept in the link).` : 'Choose a trace CSV file first.';
    workload = { kind: 'trace', fileName: trace.name, text: trace.text };
  }
  if (c.policies.length === 0) return 'Pick at least one policy.';
  return {
    workload,
    mode: c.mode,
    seed: c.seed,
    predict: c.predict,
    costModel: c.costModel,
    policies: [...c.policies],
    ...(c.memory !== null ? { memory: c.memory } : {}),
    ...(c.engine === 'gpu' ? { engine: 'gpu' as const } : {}),
  };
}

/** Whether the hindsight optimum is offered: rounds mode and at most ~60 requests (a trace is checked when it runs). */
export function optimumOffered(c: ExperimentConfig): boolean {
  if (c.mode !== 'rounds') return false;
  if (isLmsys(c.preset)) return c.requests <= 60;
  if (c.preset === 'trace') return true;
  return c.synthRequests === null || c.synthRequests <= 60;
}

/** A one-line title for a run. */
export function configTitle(c: ExperimentConfig): string {
  const w = isLmsys(c.preset)
    ? `LMSYS λ=${c.rate}, ${c.requests.toLocaleString('en-US')} req`
    : c.preset === 'trace'
      ? `trace ${c.traceName ?? ''}`
      : `paper synthetic (${c.preset === 'synthetic-zero' ? 'zero' : 'Poisson'})`;
  return `${w}, ${c.policies.length} ${c.policies.length === 1 ? 'policy' : 'policies'}, seed ${c.seed}${c.predict === 'exact' ? '' : `, ${c.predict}`}${c.engine === 'gpu' ? ', GPU engine' : ''}`;
}
