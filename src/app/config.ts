/**
 * The experiment configuration the UI edits, its URL form, and its translation into
 * the worker's RunConfig (the same inputs `kvsched simulate` takes).
 */
import { DEFAULT_COST_MODEL } from '../cost/registry.ts';
import { ROUTERS, type RouterKind } from '../engine/replicas.ts';
import { checkSloMode, parseSlo } from '../metrics/slo.ts';
import type { TimeMode } from '../model/types.ts';
import { PAPER_POLICIES } from '../policies/registry.ts';
import type { RunConfig, RunWorkload } from '../worker/protocol.ts';

export const PRESETS = ['lmsys-high', 'lmsys-low', 'lmsys', 'synthetic-zero', 'synthetic-poisson', 'trace'] as const;
export type Preset = (typeof PRESETS)[number];

export const PRESET_LABELS: Record<Preset, string> = {
  'lmsys-high': 'LMSYS high, λ = 50/s',
  'lmsys-low': 'LMSYS low, λ = 10/s',
  lmsys: 'LMSYS, custom λ and n',
  'synthetic-zero': 'Synthetic, all at 0',
  'synthetic-poisson': 'Synthetic, Poisson',
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
  /** SLO in the CLI's `--slo` grammar (src/metrics/slo.ts); '' = none. */
  slo: string;
  /** Replicas K of each policy behind the router (CPU engine); 1 = no router. */
  replicas: number;
  router: RouterKind;
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
    slo: '',
    replicas: 1,
    router: 'round-robin',
  };
}

/** The configuration after choosing a preset (rate and time mode follow the preset). */
export function applyPreset(c: ExperimentConfig, preset: Preset): ExperimentConfig {
  const next: ExperimentConfig = { ...c, preset, mode: defaultMode(preset) };
  if (preset === 'lmsys-high') next.rate = 50;
  if (preset === 'lmsys-low') next.rate = 10;
  return next;
}

/**
 * The numeric fields of the form: their ranges, declared once. The form validates what
 * is typed against these (a message beside the field, Run disabled), and the URL reader
 * drops values outside them.
 */
export interface NumberRule {
  readonly label: string;
  /** Smallest allowed value; `exclusive`: the value must be above it. */
  readonly min: number;
  readonly exclusive?: boolean;
  readonly max: number;
  /** Values up to max, but not max itself. */
  readonly maxExclusive?: boolean;
  readonly integer: boolean;
}

export const NUMBER_RULES = {
  rate: { label: 'Arrival rate λ', min: 0, exclusive: true, max: 1e9, integer: false },
  requests: { label: 'Requests', min: 1, max: 10_000_000, integer: true },
  synthRequests: { label: 'Requests', min: 1, max: 100_000, integer: true },
  memory: { label: 'KV capacity M', min: 2, max: 2 ** 31 - 1, integer: true },
  seed: { label: 'Seed', min: 0, max: 0xffffffff, integer: true },
  noise: { label: 'Noise E', min: 0, max: 1, maxExclusive: true, integer: false },
  sweepRate: { label: 'Sweep rate', min: 0, exclusive: true, max: 1e9, integer: false },
  replicas: { label: 'Replicas K', min: 1, max: 1024, integer: true },
  attainment: { label: 'Target attainment', min: 0, exclusive: true, max: 1, integer: false },
  capacityRequests: { label: 'Requests per probe', min: 2, max: 1_000_000, integer: true },
} as const satisfies Record<string, NumberRule>;

export type NumberField = keyof typeof NUMBER_RULES;

function ruleText(r: NumberRule): string {
  const lo = `${r.exclusive ? '> ' : '≥ '}${r.min.toLocaleString('en-US')}`;
  const hi = `${r.maxExclusive ? '< ' : '≤ '}${r.max.toLocaleString('en-US')}`;
  return `${r.integer ? 'a whole number' : 'a number'} ${lo} and ${hi}`;
}

/** Checks a typed value against a field's rule: the number, or a one-line message. */
export function checkNumber(field: NumberField, text: string): { value: number } | { error: string } {
  const r: NumberRule = NUMBER_RULES[field];
  const t = text.trim();
  const x = t === '' ? Number.NaN : Number(t);
  const bad =
    !Number.isFinite(x) ||
    (r.exclusive ? x <= r.min : x < r.min) ||
    (r.maxExclusive ? x >= r.max : x > r.max) ||
    (r.integer && !Number.isInteger(x));
  if (bad) return { error: `${r.label} must be ${ruleText(r)}${t === '' ? '' : ` (got ${t})`}.` };
  return { value: x };
}

/** Parses the sweep's rate list (commas or spaces): every entry must be a valid rate. */
export function parseSweepRates(text: string): { value: number[] } | { error: string } {
  const parts = text.split(/[\s,]+/).filter((s) => s !== '');
  if (parts.length === 0) return { error: 'Sweep rates: give at least one arrival rate, e.g. 10, 20, 30.' };
  const out: number[] = [];
  for (const part of parts) {
    const c = checkNumber('sweepRate', part);
    if ('error' in c) return { error: `Sweep rates: ${part} is not ${ruleText(NUMBER_RULES.sweepRate)}.` };
    out.push(c.value);
  }
  return { value: out };
}

/**
 * Checks typed SLO text with the CLI's own parser and time-mode check (`--slo`): null when
 * it is valid or empty (no SLO), else the parser's one-line message.
 */
export function checkSloText(text: string, mode: TimeMode): string | null {
  if (text.trim() === '') return null;
  try {
    checkSloMode(parseSlo(text), mode);
    return null;
  } catch (e) {
    return `SLO: ${e instanceof Error ? e.message : String(e)}.`;
  }
}

/** A valid SLO as the parser normalises it (no blanks: `ttft=2s,tpot=0.2s`); '' for none. */
export function normalSlo(text: string): string {
  return text.trim() === '' ? '' : parseSlo(text).text;
}

function num(p: URLSearchParams, key: string, field: NumberField): number | undefined {
  const v = p.get(key);
  if (v === null || v.trim() === '') return undefined;
  const c = checkNumber(field, v);
  return 'value' in c ? c.value : undefined;
}

/** Reads a configuration from URL params; missing or invalid values keep their defaults. */
export function configFromParams(p: URLSearchParams): ExperimentConfig {
  const c = defaultConfig();
  const preset = p.get('preset');
  if (preset !== null && (PRESETS as readonly string[]).includes(preset)) {
    Object.assign(c, applyPreset(c, preset as Preset));
  }
  c.rate = num(p, 'rate', 'rate') ?? c.rate;
  c.requests = num(p, 'n', 'requests') ?? c.requests;
  c.synthRequests = num(p, 'sn', 'synthRequests') ?? null;
  const mode = p.get('mode');
  if (mode === 'rounds' || mode === 'seconds') c.mode = mode;
  c.memory = num(p, 'mem', 'memory') ?? null;
  const pol = p.get('pol');
  if (pol !== null) {
    const list = pol
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (list.length > 0) c.policies = list;
  }
  c.predict = p.get('pred') ?? c.predict;
  c.costModel = p.get('cost') ?? c.costModel;
  if (p.get('eng') === 'gpu') c.engine = 'gpu';
  c.seed = num(p, 'seed', 'seed') ?? c.seed;
  const sweep = p.get('sweep');
  if (sweep !== null) {
    const rates = parseSweepRates(sweep);
    if ('value' in rates) c.sweepRates = rates.value;
  }
  c.traceName = p.get('trace');
  const slo = p.get('slo');
  if (slo !== null && checkSloText(slo, 'seconds') === null) c.slo = normalSlo(slo);
  c.replicas = num(p, 'k', 'replicas') ?? c.replicas;
  const router = p.get('router');
  if (router !== null && (ROUTERS as readonly string[]).includes(router)) c.router = router as RouterKind;
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
  if (c.slo !== '') p.set('slo', c.slo);
  if (c.replicas !== d.replicas) p.set('k', String(c.replicas));
  if (c.router !== d.router) p.set('router', c.router);
  return p;
}

/** The worker's RunConfig, or a message saying what is missing. */
export function toRunConfig(c: ExperimentConfig, trace: { name: string; text: string } | null): RunConfig | string {
  let workload: RunWorkload;
  if (isLmsys(c.preset)) workload = { kind: 'lmsys', requests: c.requests, rate: c.rate };
  else if (c.preset === 'synthetic-zero' || c.preset === 'synthetic-poisson') {
    workload = {
      kind: 'paper-synthetic',
      arrivals: c.preset === 'synthetic-zero' ? 'zero' : 'poisson',
      ...(c.synthRequests !== null ? { requests: c.synthRequests } : {}),
    };
  } else {
    if (!trace)
      return c.traceName
        ? `Upload the trace file ${c.traceName} again (trace contents are not kept in the link).`
        : 'Choose a trace CSV file first.';
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
    ...(c.slo.trim() !== '' ? { slo: c.slo.trim() } : {}),
    ...(c.replicas > 1 ? { replicas: { count: c.replicas, router: c.router } } : {}),
  };
}

/** Whether the hindsight optimum is offered: rounds mode and at most ~60 requests (a trace is checked when it runs). */
export function optimumOffered(c: ExperimentConfig): boolean {
  // The optimum is of one machine: with replicas its ratios would compare different systems.
  if (c.mode !== 'rounds' || c.replicas > 1) return false;
  if (isLmsys(c.preset)) return c.requests <= 60;
  if (c.preset === 'trace') return true;
  return c.synthRequests === null || c.synthRequests <= 60;
}

/** A one-line title for a run; a sweep's names its rates instead of the form's one λ. */
export function configTitle(c: ExperimentConfig, sweep = false): string {
  const w = isLmsys(c.preset)
    ? sweep
      ? `LMSYS sweep λ ∈ {${c.sweepRates.join(', ')}}, ${c.requests.toLocaleString('en-US')} req`
      : `LMSYS λ=${c.rate}, ${c.requests.toLocaleString('en-US')} req`
    : c.preset === 'trace'
      ? `trace ${c.traceName ?? ''}`
      : `paper synthetic (${c.preset === 'synthetic-zero' ? 'zero' : 'Poisson'})`;
  const rep = c.replicas > 1 ? `, ${c.replicas} replicas (${c.router})` : '';
  const slo = c.slo !== '' ? `, SLO ${c.slo}` : '';
  return `${w}, ${c.policies.length} ${c.policies.length === 1 ? 'policy' : 'policies'}, seed ${c.seed}${c.predict === 'exact' ? '' : `, ${c.predict}`}${c.engine === 'gpu' ? ', GPU engine' : ''}${rep}${slo}`;
}

/** How each configuration field reads in a difference list. */
const FIELD_TEXT: { [K in keyof ExperimentConfig]?: { label: string; show: (c: ExperimentConfig) => string } } = {
  preset: { label: 'workload', show: (c) => PRESET_LABELS[c.preset] },
  rate: { label: 'λ', show: (c) => (isLmsys(c.preset) ? String(c.rate) : '—') },
  requests: { label: 'requests', show: (c) => (isLmsys(c.preset) ? c.requests.toLocaleString('en-US') : '—') },
  synthRequests: {
    label: 'requests',
    show: (c) =>
      isLmsys(c.preset) || c.preset === 'trace' ? '—' : (c.synthRequests?.toLocaleString('en-US') ?? 'drawn'),
  },
  traceName: { label: 'trace', show: (c) => (c.preset === 'trace' ? (c.traceName ?? '—') : '—') },
  mode: { label: 'time', show: (c) => c.mode },
  memory: { label: 'M', show: (c) => (c.memory === null ? 'default' : c.memory.toLocaleString('en-US')) },
  policies: { label: 'policies', show: (c) => c.policies.join(', ') },
  predict: { label: 'prediction', show: (c) => c.predict },
  costModel: { label: 'cost model', show: (c) => c.costModel },
  engine: { label: 'engine', show: (c) => c.engine.toUpperCase() },
  seed: { label: 'seed', show: (c) => String(c.seed) },
  // Stored runs from before these fields existed have none: read as the defaults.
  slo: { label: 'SLO', show: (c) => (c.slo ?? '') || 'none' },
  replicas: { label: 'replicas', show: (c) => String(c.replicas ?? 1) },
  router: { label: 'router', show: (c) => ((c.replicas ?? 1) > 1 ? (c.router ?? 'round-robin') : '—') },
};

export interface ConfigDifference {
  readonly field: keyof ExperimentConfig;
  readonly label: string;
  readonly values: string[];
}

/**
 * The fields in which configurations differ (as shown to the user; fields that do not
 * apply to a workload read "—"). The sweep's rate list is left out: it does not change
 * an experiment's results. `show` may rename values (a profile's name for its id).
 */
export function configDifferences(
  configs: readonly ExperimentConfig[],
  rename: (s: string) => string = (s) => s,
): ConfigDifference[] {
  const out: ConfigDifference[] = [];
  for (const [field, t] of Object.entries(FIELD_TEXT) as [
    keyof ExperimentConfig,
    { label: string; show: (c: ExperimentConfig) => string },
  ][]) {
    const values = configs.map((c) => (field === 'costModel' ? rename(t.show(c)) : t.show(c)));
    if (new Set(values).size > 1) out.push({ field, label: t.label, values });
  }
  return out;
}
