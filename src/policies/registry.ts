import type { Policy } from '../engine/policy.ts';
import { LIMITS, limitText } from '../model/limits.ts';
import { shownText } from '../model/text.ts';
import { AlphaClearingPolicy } from './alpha-clearing.ts';
import { AlphaGreedyPolicy } from './alpha-greedy.ts';
import { parseFraction } from './fraction.ts';
import { McFcfsPolicy } from './mc-fcfs.ts';
import { McsfPolicy } from './mcsf.ts';
import { VLLM_DEFAULTS, VllmPolicy } from './vllm.ts';

/** How a policy is named on the command line and built from its parameters. */
export interface PolicyFactory {
  readonly name: string;
  /** Usage, e.g. `alpha-greedy:α`. */
  readonly usage: string;
  readonly summary: string;
  /** Build a fresh policy (policies are stateful: one per run). */
  create(args: readonly string[], spec: string): Policy;
}

function noArgs(name: string, args: readonly string[]): void {
  if (args.length > 0) throw new Error(`${name} takes no parameters, got "${args.join(':')}"`);
}

function positiveInt(text: string, what: string, policy: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`${policy}: ${what} "${text}" is not a positive integer`);
  // Token counts share the model's range (src/model/limits.ts): vllm:99999999999999999999 was taken as 1e20.
  if (Number(text) > LIMITS.tokens.max) throw new Error(`${policy}: ${what} ${text} exceeds the supported maximum ${limitText(LIMITS.tokens.max)}`);
  return Number(text);
}

export const POLICIES: readonly PolicyFactory[] = [
  {
    name: 'mcsf',
    usage: 'mcsf',
    summary: "MC-SF, the paper's memory-constrained shortest-first with look-ahead",
    create: (args, spec) => (noArgs('mcsf', args), new McsfPolicy(spec)),
  },
  {
    name: 'mc-fcfs',
    usage: 'mc-fcfs',
    summary: "MC-Benchmark: MC-SF's feasibility check, first come first served",
    create: (args, spec) => (noArgs('mc-fcfs', args), new McFcfsPolicy(spec)),
  },
  {
    name: 'alpha-greedy',
    usage: 'alpha-greedy:α',
    summary: 'FCFS admission while the batch holds ≤ (1−α)·M; evicts newest on overflow',
    create(args, spec) {
      if (args.length !== 1) throw new Error(`alpha-greedy needs one parameter α, e.g. alpha-greedy:0.1 (got "${spec}")`);
      return new AlphaGreedyPolicy(spec, parseFraction(args[0] as string, 'α', 'alpha-greedy'));
    },
  },
  {
    name: 'alpha-clearing',
    usage: 'alpha-clearing:α:β',
    summary: 'α-greedy admission; on overflow evicts newest until the batch holds ≤ (1−β)·M',
    create(args, spec) {
      if (args.length !== 2) throw new Error(`alpha-clearing needs α and β, e.g. alpha-clearing:0.1:0.2 (got "${spec}")`);
      return new AlphaClearingPolicy(
        spec,
        parseFraction(args[0] as string, 'α', 'alpha-clearing'),
        parseFraction(args[1] as string, 'β', 'alpha-clearing'),
      );
    },
  },
  {
    name: 'vllm',
    usage: 'vllm[:maxTokens[:maxBatch]]',
    summary: 'vLLM v0 as reproduced by Vidur: 16-token blocks, 1% watermark, FCFS, preemption by recompute (defaults 4096 tokens, 128 requests)',
    create(args, spec) {
      if (args.length > 2) throw new Error(`vllm takes at most maxTokens and maxBatch, got "${spec}"`);
      const maxTokens = args[0] === undefined ? VLLM_DEFAULTS.maxTokens : positiveInt(args[0], 'maxTokens', 'vllm');
      const maxBatch = args[1] === undefined ? VLLM_DEFAULTS.maxBatch : positiveInt(args[1], 'maxBatch', 'vllm');
      return new VllmPolicy(spec, { ...VLLM_DEFAULTS, maxTokens, maxBatch });
    },
  },
];

/** Build a policy from its command-line spelling, e.g. `alpha-clearing:0.1:0.2`. */
export function createPolicy(spec: string): Policy {
  const text = spec.trim();
  const [name, ...args] = text.split(':');
  const f = POLICIES.find((p) => p.name === name);
  if (!f) throw new Error(`unknown policy "${shownText(spec)}"; known: ${POLICIES.map((p) => p.usage).join(', ')}`);
  return f.create(args, text);
}

/** Validate a comma-separated list of policies (every entry is built once and discarded). */
export function parsePolicyList(list: string): string[] {
  const specs = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length === 0) throw new Error('no policy given');
  for (const s of specs) createPolicy(s);
  return specs;
}

/** The paper's line-up (model.md §5 real-trace experiment). */
export const PAPER_POLICIES = ['mcsf', 'mc-fcfs', 'alpha-greedy:0.1', 'alpha-greedy:0.2', 'alpha-clearing:0.1:0.1', 'alpha-clearing:0.2:0.2', 'vllm'];
