/**
 * The hindsight optimum (src/theory/optimum.ts, pure TypeScript local search and branch and bound) of a
 * rounds-mode configuration, with each configured policy's total latency on the CPU
 * engine for the ratios. Used by the engine worker; Node tests can call it too.
 */
import { AbortError } from '../model/abort.ts';
import { solveOptimum } from '../theory/optimum.ts';
import type { OptimumSummary, RunConfig } from './protocol.ts';
import { instanceOf, runExperiment, type RunHooks } from './runner.ts';

/** Largest instance offered (the paper's synthetic instances have 40..60 requests). */
export const OPTIMUM_MAX_REQUESTS = 60;

export async function runOptimum(
  config: RunConfig,
  timeLimitSec: number,
  hooks: RunHooks = {},
): Promise<OptimumSummary> {
  if (config.mode !== 'rounds')
    throw new Error('the hindsight optimum is defined in rounds mode; switch Time to rounds');
  const instance = instanceOf(config);
  if (instance.size > OPTIMUM_MAX_REQUESTS)
    throw new Error(
      `the hindsight optimum is offered for up to ${OPTIMUM_MAX_REQUESTS} requests; this instance has ${instance.size}`,
    );
  const res = await solveOptimum(
    { memory: instance.memory, requests: [...instance.requests()] },
    {
      timeLimitSec,
      // The LP bound needs HiGHS' WebAssembly, which the app does not ship: the search gets all the time.
      lpShare: 0,
      ...(hooks.signal ? { signal: hooks.signal } : {}),
    },
  );
  if (hooks.signal?.aborted) {
    throw new AbortError();
  }
  const exp = runExperiment({ ...config, engine: 'cpu' });
  return {
    status: res.status,
    objective: res.objective,
    lowerBound: res.lowerBound,
    seconds: res.seconds,
    nodes: res.stats.nodes,
    localSearch: res.stats.localSearch?.value ?? null,
    requests: instance.size,
    memory: instance.memory,
    policies: exp.runs.map((r) => ({
      policy: r.policy,
      total: r.ok ? Math.round(r.summary.meanLatency * exp.requests) : null,
    })),
  };
}
