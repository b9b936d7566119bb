import type { RequestSpec, TimeMode } from '../model/types.ts';
import {
  InputError,
  LMSYS_MEMORY,
  lmsys,
  lmsysStream,
  paperSynthetic,
  paperSyntheticStream,
  parseTrace,
  validateInstance,
  withPredictions,
  type PaperArrivals,
  type PredictionSpec,
} from '../workload/index.ts';

/** Where an experiment's requests come from. */
export type WorkloadSpec =
  | { readonly kind: 'lmsys'; readonly requests: number; readonly rate: number }
  | { readonly kind: 'paper-synthetic'; readonly arrivals: PaperArrivals; readonly requests?: number }
  | { readonly kind: 'trace'; readonly fileName: string; readonly text: string };

export interface InstanceOptions {
  readonly workload: WorkloadSpec;
  readonly mode: TimeMode;
  /** KV capacity; default: 16492 for lmsys and traces, drawn for paper-synthetic. */
  readonly memory?: number;
  readonly seed: number;
  readonly predict: PredictionSpec;
}

/** A validated instance that can be replayed once per policy. */
export interface Instance {
  readonly memory: number;
  readonly mode: TimeMode;
  /** Number of requests. */
  readonly size: number;
  /** Arrival rate per time unit, when the workload has one. */
  readonly rate?: number;
  /** A fresh pass over the requests in arrival order (streams are regenerated, not stored). */
  requests(): Iterable<RequestSpec>;
  readonly description: string;
}

/** Above this many generated requests the instance is streamed instead of stored. */
const STREAM_ABOVE = 200_000;

export function buildInstance(o: InstanceOptions): Instance {
  const w = o.workload;
  const predict = (xs: Iterable<RequestSpec>) =>
    o.predict.kind === 'exact' ? xs : withPredictions(xs, o.predict, o.seed);
  if (w.kind === 'lmsys') {
    const memory = o.memory ?? LMSYS_MEMORY;
    const opts = { seed: o.seed, requests: w.requests, rate: w.rate, mode: o.mode, memory };
    const description = `lmsys stand-in, ${w.requests} requests, λ = ${w.rate}/${o.mode === 'rounds' ? 'round' : 's'}, M = ${memory}, seed ${o.seed}`;
    if (w.requests > STREAM_ABOVE) {
      // lmsys sizes satisfy s + o ≤ 4096; M below that is checked per request by the engine.
      lmsysStream(opts).next(); // validates the options eagerly
      return {
        memory,
        mode: o.mode,
        size: w.requests,
        rate: w.rate,
        requests: () => predict(lmsysStream(opts)),
        description,
      };
    }
    const inst = lmsys(opts);
    validateInstance(inst.requests, memory, 'lmsys');
    const reqs = [...predict(inst.requests)];
    return { memory, mode: o.mode, size: reqs.length, rate: w.rate, requests: () => reqs, description };
  }
  if (w.kind === 'paper-synthetic' && w.requests !== undefined && w.requests > STREAM_ABOVE) {
    // Streamed like lmsys: 10⁷ stored requests took 35 s and 1.3 GB just to build.
    const st = paperSyntheticStream({
      seed: o.seed,
      arrivals: w.arrivals,
      mode: o.mode,
      requests: w.requests,
      ...(o.memory !== undefined ? { memory: o.memory } : {}),
    });
    const rate = st.rate;
    const description = `paper-synthetic (${w.arrivals === 'zero' ? 'all at 0' : `Poisson λ = ${rate?.toFixed(3)}/${o.mode === 'rounds' ? 'round' : 's'}`}), ${st.size} requests, M = ${st.memory}, seed ${o.seed}`;
    return {
      memory: st.memory,
      mode: o.mode,
      size: st.size,
      ...(rate !== undefined ? { rate } : {}),
      requests: () => predict(st.requests()),
      description,
    };
  }
  if (w.kind === 'paper-synthetic') {
    const inst = paperSynthetic({
      seed: o.seed,
      arrivals: w.arrivals,
      mode: o.mode,
      ...(w.requests !== undefined ? { requests: w.requests } : {}),
      ...(o.memory !== undefined ? { memory: o.memory } : {}),
    });
    const reqs = [...predict(inst.requests)];
    const rate = inst.rate;
    const description = `paper-synthetic (${w.arrivals === 'zero' ? 'all at 0' : `Poisson λ = ${rate?.toFixed(3)}/${o.mode === 'rounds' ? 'round' : 's'}`}), ${reqs.length} requests, M = ${inst.memory}, seed ${o.seed}`;
    return {
      memory: inst.memory,
      mode: o.mode,
      size: reqs.length,
      ...(rate !== undefined ? { rate } : {}),
      requests: () => reqs,
      description,
    };
  }
  const memory = o.memory ?? LMSYS_MEMORY;
  const parsed = parseTrace(w.text, { fileName: w.fileName, mode: o.mode, memory });
  if (parsed.requests.length === 0) throw new InputError(w.fileName, null, null, 'the trace has no requests');
  const reqs = [...predict(parsed.requests)];
  return {
    memory,
    mode: o.mode,
    size: reqs.length,
    requests: () => reqs,
    description: `trace ${w.fileName}, ${reqs.length} requests, M = ${memory}`,
  };
}
