/**
 * Which replica set-ups the GPU engine runs, as one line per refusal, for callers that
 * decide before acquiring a device (the app's form, the browser runner). Today it runs
 * none: replicas behind a router are a CPU-engine feature (src/engine/replicas.ts). When
 * the GPU engine runs state-free routers (issue 15 §7), this is the one place to say so.
 */
import type { RouterKind } from '../engine/replicas.ts';

/** Why the GPU engine refuses K replicas behind `router`, or undefined when it runs them (K = 1 always). */
export function gpuReplicaRefusal(count: number, router: RouterKind): string | undefined {
  if (count <= 1) return undefined;
  return `GPU engine: ${count} replicas behind the ${router} router are not supported (replicas run on the CPU engine); use the CPU engine`;
}
