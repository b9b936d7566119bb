/**
 * The policy registry: every policy's name, summary and parameters declared once, the
 * parser from the user-facing spelling (`alpha-clearing:0.1:0.2`) to a typed config
 * (`{ kind: 'alpha-clearing', alpha: 0.1, beta: 0.2 }`), its inverse `formatPolicySpec`,
 * and `createPolicy` for the CPU engine. Consumers parse a spec once and pass the config
 * on; the GPU engine maps configs to its records (src/gpu-engine/engine.ts).
 *
 * Adding a policy: one entry in POLICY_DECLS (name, summary, parameters; the config type,
 * usage line and validation messages follow) and one in BUILDERS (the CPU engine's class);
 * the GPU engine has its own table of ports (GPU_PORTS in src/gpu-engine/engine.ts).
 */
import type { Policy } from '../engine/policy.ts';
import { LIMITS, limitText } from '../model/limits.ts';
import { shownText } from '../model/text.ts';
import { AlphaClearingPolicy } from './alpha-clearing.ts';
import { AlphaGreedyPolicy } from './alpha-greedy.ts';
import { parseFraction, type Fraction } from './fraction.ts';
import { McFcfsPolicy } from './mc-fcfs.ts';
import { McsfPolicy } from './mcsf.ts';
import { McsfBudgetPolicy } from './mcsf-budget.ts';
import { ORCA_DEFAULTS, OrcaPolicy, type OrcaConfig } from './orca.ts';
import { SARATHI_DEFAULTS, SarathiPolicy, type SarathiConfig } from './sarathi.ts';
import { VLLM_DEFAULTS, VllmPolicy, type VllmConfig } from './vllm.ts';

/**
 * One positional parameter. Its type fixes its range and its validation message:
 * `fraction` is a decimal in [0, 1) with at most 9 decimals (exact limits: fraction.ts),
 * `positive-int` an integer ≥ 1.
 */
export interface ParamDecl {
  /** Config field name. */
  readonly name: string;
  /** How usage lines and messages name it (e.g. α); default `name`. */
  readonly symbol?: string;
  readonly type: 'fraction' | 'positive-int';
  /** Optional parameters have a default; they follow the required ones. */
  readonly default?: number;
  /** Shown in the "needs …, e.g." message (required parameters). */
  readonly example?: string;
}

export interface PolicyDecl {
  readonly summary: string;
  readonly params: readonly ParamDecl[];
}

const ALPHA = { name: 'alpha', symbol: 'α', type: 'fraction', example: '0.1' } as const;
const BETA = { name: 'beta', symbol: 'β', type: 'fraction', example: '0.2' } as const;

export const POLICY_DECLS = {
  mcsf: { summary: "MC-SF, the paper's memory-constrained shortest-first with look-ahead", params: [] },
  'mc-fcfs': { summary: "MC-Benchmark: MC-SF's feasibility check, first come first served", params: [] },
  'alpha-greedy': {
    summary: 'FCFS admission while the batch holds ≤ (1−α)·M; evicts newest on overflow',
    params: [ALPHA],
  },
  'alpha-clearing': {
    summary: 'α-greedy admission; on overflow evicts newest until the batch holds ≤ (1−β)·M',
    params: [ALPHA, BETA],
  },
  vllm: {
    summary:
      'vLLM v0 as reproduced by Vidur: 16-token blocks, 1% watermark, FCFS, preemption by recompute ' +
      `(defaults ${VLLM_DEFAULTS.maxTokens} tokens, ${VLLM_DEFAULTS.maxBatch} requests)`,
    params: [
      { name: 'maxTokens', type: 'positive-int', default: VLLM_DEFAULTS.maxTokens },
      { name: 'maxBatch', type: 'positive-int', default: VLLM_DEFAULTS.maxBatch },
    ],
  },
  sarathi: {
    summary:
      'Sarathi-Serve (chunked prefill) as reproduced by Vidur: vLLM blocks and watermark, a token budget ' +
      `per round, decodes first, then prefill chunks (defaults ${SARATHI_DEFAULTS.chunk} tokens, ${SARATHI_DEFAULTS.maxBatch} requests)`,
    params: [
      { name: 'chunk', type: 'positive-int', default: SARATHI_DEFAULTS.chunk },
      { name: 'maxBatch', type: 'positive-int', default: SARATHI_DEFAULTS.maxBatch },
    ],
  },
  'mcsf-budget': {
    summary:
      "MC-SF's feasible shortest-first admission with Sarathi's chunked prefill under a token budget per round " +
      `(default ${SARATHI_DEFAULTS.chunk}, as Sarathi)`,
    params: [{ name: 'chunk', type: 'positive-int', default: SARATHI_DEFAULTS.chunk }],
  },
  orca: {
    summary:
      'Orca as reproduced by Vidur: iteration-level FCFS batching, each request reserves a full context ' +
      `(defaults ${ORCA_DEFAULTS.maxBatch} requests, ${ORCA_DEFAULTS.maxTokens} tokens reserved)`,
    params: [
      { name: 'maxBatch', type: 'positive-int', default: ORCA_DEFAULTS.maxBatch },
      { name: 'maxTokens', type: 'positive-int', default: ORCA_DEFAULTS.maxTokens },
    ],
  },
} as const satisfies Record<string, PolicyDecl>;

export type PolicyKind = keyof typeof POLICY_DECLS;

type ParamFields<P> = P extends readonly ParamDecl[] ? { readonly [D in P[number] as D['name']]: number } : never;

/** A policy's typed configuration: `kind` plus one number per declared parameter. */
export type PolicyConfigOf<K extends PolicyKind> = { readonly kind: K } & ParamFields<
  (typeof POLICY_DECLS)[K]['params']
>;
export type PolicyConfig = { [K in PolicyKind]: PolicyConfigOf<K> }[PolicyKind];

/** The CPU engine's class for each policy; `spec` is the label results carry. */
const BUILDERS: { readonly [K in PolicyKind]: (c: PolicyConfigOf<K>, spec: string) => Policy } = {
  mcsf: (_c, spec) => new McsfPolicy(spec),
  'mc-fcfs': (_c, spec) => new McFcfsPolicy(spec),
  'alpha-greedy': (c, spec) => new AlphaGreedyPolicy(spec, policyFraction(c.alpha, 'α', 'alpha-greedy')),
  'alpha-clearing': (c, spec) =>
    new AlphaClearingPolicy(
      spec,
      policyFraction(c.alpha, 'α', 'alpha-clearing'),
      policyFraction(c.beta, 'β', 'alpha-clearing'),
    ),
  vllm: (c, spec) => new VllmPolicy(spec, vllmConfig(c)),
  sarathi: (c, spec) => new SarathiPolicy(spec, sarathiConfig(c)),
  'mcsf-budget': (c, spec) => new McsfBudgetPolicy(spec, c.chunk),
  orca: (c, spec) => new OrcaPolicy(spec, orcaConfig(c)),
};

/** How a policy is named on the command line (for help texts and the app). */
export interface PolicyInfo {
  readonly name: PolicyKind;
  /** Usage, e.g. `alpha-greedy:α` or `vllm[:maxTokens[:maxBatch]]`. */
  readonly usage: string;
  readonly summary: string;
  readonly params: readonly ParamDecl[];
}

const symbolOf = (p: ParamDecl): string => p.symbol ?? p.name;

function usageOf(name: string, params: readonly ParamDecl[]): string {
  let out = name;
  let open = 0;
  for (const p of params) {
    if (p.default !== undefined) {
      out += '[';
      open++;
    }
    out += `:${symbolOf(p)}`;
  }
  return out + ']'.repeat(open);
}

const KINDS = Object.keys(POLICY_DECLS) as PolicyKind[];

export const POLICIES: readonly PolicyInfo[] = KINDS.map((name) => {
  const d: PolicyDecl = POLICY_DECLS[name];
  return { name, usage: usageOf(name, d.params), summary: d.summary, params: d.params };
});

function isKind(name: string): name is PolicyKind {
  return Object.hasOwn(POLICY_DECLS, name);
}

/** The arity error for a spec with the wrong number of parameters. */
function arityError(name: string, params: readonly ParamDecl[], args: readonly string[], spec: string): Error {
  if (params.length === 0) return new Error(`${name} takes no parameters, got "${args.join(':')}"`);
  const required = params.filter((p) => p.default === undefined);
  if (required.length === 0) {
    return new Error(`${name} takes at most ${params.map(symbolOf).join(' and ')}, got "${spec}"`);
  }
  const first = required[0] as ParamDecl;
  const needs = required.length === 1 ? `one parameter ${symbolOf(first)}` : required.map(symbolOf).join(' and ');
  const example = [name, ...required.map((p) => p.example ?? '…')].join(':');
  return new Error(`${name} needs ${needs}, e.g. ${example} (got "${spec}")`);
}

function parseParam(p: ParamDecl, text: string, policy: string): number {
  if (p.type === 'fraction') return parseFraction(text, symbolOf(p), policy).value;
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new Error(`${policy}: ${symbolOf(p)} "${shownText(text)}" is not a positive integer`);
  }
  // Token counts share the model's range (src/model/limits.ts): vllm:99999999999999999999 was taken as 1e20.
  if (Number(text) > LIMITS.tokens.max) {
    throw new Error(`${policy}: ${symbolOf(p)} ${text} exceeds the supported maximum ${limitText(LIMITS.tokens.max)}`);
  }
  return Number(text);
}

/** Parse a policy's command-line spelling, e.g. `alpha-clearing:0.1:0.2`, into its config. */
export function parsePolicySpec(spec: string): PolicyConfig {
  const text = spec.trim();
  const [name = '', ...args] = text.split(':');
  if (!isKind(name))
    throw new Error(`unknown policy "${shownText(spec)}"; known: ${POLICIES.map((p) => p.usage).join(', ')}`);
  const params: readonly ParamDecl[] = POLICY_DECLS[name].params;
  const required = params.filter((p) => p.default === undefined).length;
  if (args.length < required || args.length > params.length) throw arityError(name, params, args, text);
  const config: Record<string, number | string> = { kind: name };
  params.forEach((p, i) => {
    const a = args[i];
    config[p.name] = a === undefined ? (p.default as number) : parseParam(p, a, name);
  });
  return config as unknown as PolicyConfig;
}

/** A fraction parameter as decimal text (at most 9 decimals, never exponent notation). */
function fractionText(v: number): string {
  const t = v.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return t === '' ? '0' : t;
}

/**
 * The command-line spelling of a config (the inverse of parsePolicySpec): parameters in
 * declaration order, trailing defaults left out. Validates like the parser.
 */
export function formatPolicySpec(config: PolicyConfig): string {
  const params: readonly ParamDecl[] = POLICY_DECLS[config.kind].params;
  const values = config as unknown as Readonly<Record<string, number>>;
  const parts = params.map((p) => {
    const v = values[p.name];
    if (typeof v !== 'number') throw new Error(`${config.kind}: ${symbolOf(p)} is missing`);
    return p.type === 'fraction' ? fractionText(v) : String(v);
  });
  let keep = parts.length;
  for (let p = params[keep - 1]; p?.default !== undefined && p.default === values[p.name]; p = params[keep - 1]) keep--;
  const spec = [config.kind, ...parts.slice(0, keep)].join(':');
  parsePolicySpec(spec); // the parser's validation and messages
  return spec;
}

/** A config's fraction as the exact decimal the limits are computed from (fraction.ts). */
export function policyFraction(v: number, what: string, policy: string): Fraction {
  return parseFraction(fractionText(v), what, policy);
}

/** vLLM's full configuration (block size and watermark are fixed). */
export function vllmConfig(c: PolicyConfigOf<'vllm'>): VllmConfig {
  return { ...VLLM_DEFAULTS, maxTokens: c.maxTokens, maxBatch: c.maxBatch };
}

/** Sarathi's full configuration (block size and watermark are fixed, as vLLM's). */
export function sarathiConfig(c: PolicyConfigOf<'sarathi'>): SarathiConfig {
  return { ...SARATHI_DEFAULTS, chunk: c.chunk, maxBatch: c.maxBatch };
}

/** Orca's full configuration (block size fixed). */
export function orcaConfig(c: PolicyConfigOf<'orca'>): OrcaConfig {
  return { ...ORCA_DEFAULTS, maxBatch: c.maxBatch, maxTokens: c.maxTokens };
}

/** A spec or config as both: the config and the label results carry (the spec as written). */
export function resolvePolicy(spec: string | PolicyConfig): { readonly config: PolicyConfig; readonly label: string } {
  if (typeof spec === 'string') return { config: parsePolicySpec(spec), label: spec.trim() };
  return { config: spec, label: formatPolicySpec(spec) };
}

/**
 * Build a CPU-engine policy from its spelling (`alpha-clearing:0.1:0.2`) or its config. Its
 * `spec` (the label on results) is the text as written, or the formatted config.
 */
export function createPolicy(spec: string | PolicyConfig): Policy {
  const { config, label } = resolvePolicy(spec);
  return (BUILDERS[config.kind] as (c: PolicyConfig, spec: string) => Policy)(config, label);
}

/** Validate a comma-separated list of policies; returns the specs, trimmed. */
export function parsePolicyList(list: string): string[] {
  const specs = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length === 0) throw new Error('no policy given');
  for (const s of specs) parsePolicySpec(s);
  return specs;
}

/** The paper's line-up (model.md §5 real-trace experiment). */
export const PAPER_POLICIES = [
  'mcsf',
  'mc-fcfs',
  'alpha-greedy:0.1',
  'alpha-greedy:0.2',
  'alpha-clearing:0.1:0.1',
  'alpha-clearing:0.2:0.2',
  'vllm',
];

/**
 * The serving line-up (issue 15): what serving engineers compare MC-SF with today — the
 * paper's MC-SF and MC-Benchmark, vLLM v0, Sarathi-Serve (chunked prefill), Orca, and
 * MC-SF with Sarathi's token budget — each with its default parameters.
 */
export const SERVING_POLICIES = ['mcsf', 'mc-fcfs', 'vllm', 'sarathi', 'orca', 'mcsf-budget'];
