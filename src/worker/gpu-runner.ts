/**
 * The experiment on the GPU engine (src/gpu-engine) in a browser: the same instance,
 * cost model and power model as the CPU runner, every policy as a replica of one GPU
 * job (runPoliciesOnEngine). Runs in the engine worker when the worker has
 * navigator.gpu, otherwise on the main thread (the client decides). Refusals (limits,
 * no adapter) reject with the GPU engine's own message: nothing falls back to the CPU.
 * The GPU engine keeps no per-round trace and no per-request energy, so `kv` is empty.
 */
import { GpuEngine } from '../gpu-engine/engine.ts';
import { gpuReplicaRefusal } from '../gpu-engine/replica-support.ts';
import { evaluateSlo } from '../metrics/slo.ts';
import { runPoliciesOnEngine } from '../gpu-engine/run-cells.ts';
import { requestSession } from '../gpu/session.ts';
import { engineShader } from '../gpu/shaders-browser.ts';
import { latencyCdf } from './compact.ts';
import type { ExperimentResult, PolicyRun, RunConfig } from './protocol.ts';
import { cancelled, costModelOf, instanceOf, replicaOptions, sloOf, type RunHooks } from './runner.ts';

let cached: { gpu: GPU; engine: Promise<{ engine: GpuEngine; adapter: string }> } | undefined;

function engineFor(gpu: GPU): Promise<{ engine: GpuEngine; adapter: string }> {
  if (cached?.gpu === gpu) return cached.engine;
  const engine = (async () => {
    const session = await requestSession(gpu);
    const e = await GpuEngine.create(session, engineShader);
    void session.device.lost.then(() => {
      if (cached?.gpu === gpu) cached = undefined;
    });
    return { engine: e, adapter: session.adapterName };
  })();
  cached = { gpu, engine };
  engine.catch(() => {
    if (cached?.gpu === gpu) cached = undefined;
  });
  return engine;
}

/** `where`: shown with the results (e.g. `in the worker`). */
export async function runGpuExperiment(
  config: RunConfig,
  gpu: GPU | undefined,
  where: string,
  hooks: RunHooks = {},
): Promise<ExperimentResult> {
  const started = performance.now();
  const refusal = config.replicas ? gpuReplicaRefusal(config.replicas.count, config.replicas.router) : undefined;
  if (refusal !== undefined) throw new Error(refusal);
  const slo = sloOf(config);
  const instance = instanceOf(config);
  const costModel = costModelOf(config);
  if (gpu === undefined) throw new Error('WebGPU is not available here (navigator.gpu is undefined)');
  const { engine, adapter } = await engineFor(gpu);
  if (hooks.signal?.aborted) throw cancelled();
  const label =
    config.policies.length === 1 ? (config.policies[0] as string) : `${config.policies.length} policies on the GPU`;
  const runs = config.policies.length;
  hooks.onProgress?.({ run: 1, runs, policy: label, completed: 0, requests: instance.size, fraction: 0 });
  const ro = replicaOptions(config);
  const outcomes = await runPoliciesOnEngine(engine, instance, config.policies, {
    costModel,
    ...(ro ? { replicas: ro } : {}),
    onProgress: (p) =>
      hooks.onProgress?.({
        run: Math.min(runs, p.finished + 1),
        runs,
        policy: label,
        completed: Math.round(p.completedRequests / Math.max(1, runs)),
        requests: instance.size,
        fraction: p.totalRequests > 0 ? p.completedRequests / p.totalRequests : 0,
      }),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
  });
  const out: PolicyRun[] = outcomes.map((o) =>
    o.ok
      ? {
          policy: o.policy,
          ok: true,
          summary: o.summary,
          cdf: latencyCdf(o.result),
          kv: { x: [], y: [] },
          wallMs: o.wallSeconds * 1000,
          ...(slo ? { slo: evaluateSlo(o.result, slo) } : {}),
          ...(o.replicas ? { replicas: { router: o.replicas.router, summaries: [...o.replicas.summaries] } } : {}),
        }
      : { policy: o.policy, ok: false, error: o.error, errorName: o.kind === 'stuck' ? 'StuckError' : 'LivelockError' },
  );
  return {
    description: instance.description,
    memory: instance.memory,
    mode: config.mode,
    requests: instance.size,
    costModel: config.costModel,
    runs: out,
    wallMs: performance.now() - started,
    engine: 'gpu',
    engineNote: `GPU engine ${where}, adapter ${adapter}`,
  };
}
