/**
 * Which replica set-ups the GPU engine runs, as one line per refusal, for callers that
 * decide before acquiring a device (the CLI, the app's form, the browser runner) as well
 * as the engine layer itself (run-cells.ts). Pure: no WebGPU import.
 *
 * The GPU engine runs replicas as independent workgroups, so it can only run routers
 * whose assignment is a function of the trace alone (round-robin, seeded random): the
 * trace is split before the replicas run (docs/gpu-engine.md, replicas).
 */
import { isStatelessRouter, type RouterKind } from '../engine/replicas.ts';

/**
 * Why the GPU engine refuses a router, as one line, or undefined when it can run it (a
 * router whose assignment does not depend on the replicas' state).
 */
export function gpuRouterRefusal(router: RouterKind): string | undefined {
  if (isStatelessRouter(router)) return undefined;
  return (
    `router ${router} routes by the replicas' state at each arrival, and the GPU engine runs its replicas ` +
    'independently (the trace is split before they run)'
  );
}

/** Why the GPU engine refuses K replicas behind `router`, or undefined when it runs them (K = 1 always). */
export function gpuReplicaRefusal(count: number, router: RouterKind): string | undefined {
  if (count <= 1) return undefined;
  const why = gpuRouterRefusal(router);
  return why === undefined ? undefined : `GPU engine: ${why}; use the CPU engine, or the round-robin or random router`;
}
