/**
 * Output-length prediction models (model.md §5, "Prediction errors").
 *
 * Spec syntax: `exact` or `noise:E` with 0 ≤ E < 1.
 * - `exact`: no prediction model; requests keep the prediction they carry. Generated
 *   workloads and traces without a `predicted_decode_tokens` column carry õ = o (exact);
 *   a trace that has that column keeps its given predictions.
 * - `noise:E`: õ_i = max(1, round(o_i · U_i)) with U_i uniform on [1−E, 1+E], computed
 *   from the TRUE output o_i. It is an explicit request, so it overrides predictions a
 *   trace carries. U_i = 1 − E + 2E·u_i where u_i is the i-th `float()` of the stream
 *   `deriveSeed(seed, 'predictions')`, requests taken in increasing id order (one draw
 *   per request, even for E = 0). The same u_i serve every E (common random numbers:
 *   comparing noise levels compares like with like), and the stream is separate from
 *   sizes and arrivals, so the noise level never changes those.
 */
import type { RequestSpec } from '../model/types.ts';
import { InputError } from './errors.ts';
import { Rng, deriveSeed } from './rng.ts';

export type PredictionSpec = { readonly kind: 'exact' } | { readonly kind: 'noise'; readonly epsilon: number };

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/** Parses `exact` | `noise:E` (0 ≤ E < 1); throws an InputError otherwise. */
export function parsePredictionSpec(text: string): PredictionSpec {
  const spec = text.trim();
  const source = `prediction spec ${JSON.stringify(text)}`;
  if (spec === 'exact') return { kind: 'exact' };
  if (spec.startsWith('noise:')) {
    const e = spec.slice('noise:'.length).trim();
    if (!DECIMAL.test(e)) {
      throw new InputError(
        source,
        null,
        null,
        `noise level ${JSON.stringify(e)} is not a number (expected noise:E with 0 ≤ E < 1, e.g. noise:0.2)`,
      );
    }
    const epsilon = Number(e);
    if (!(epsilon >= 0 && epsilon < 1)) {
      throw new InputError(source, null, null, `noise level must satisfy 0 ≤ E < 1, got ${e}`);
    }
    return { kind: 'noise', epsilon };
  }
  throw new InputError(source, null, null, 'expected "exact" or "noise:E" with 0 ≤ E < 1');
}

/** The canonical text of a spec (inverse of parsePredictionSpec). */
export function formatPredictionSpec(spec: PredictionSpec): string {
  return spec.kind === 'exact' ? 'exact' : `noise:${spec.epsilon}`;
}

/**
 * A stateful function that sets the prediction of each request it is given. It must
 * be called on the requests in increasing id order (as streams and generators emit
 * them): the k-th call consumes the k-th draw of the prediction stream. Does not
 * mutate its argument.
 */
export function makePredictor(spec: PredictionSpec, seed: number): (r: RequestSpec) => RequestSpec {
  if (spec.kind === 'exact') return (r) => r;
  const eps = spec.epsilon;
  if (!(eps >= 0 && eps < 1)) throw new RangeError(`noise level must satisfy 0 ≤ E < 1, got ${eps}`);
  const rng = new Rng(deriveSeed(seed, 'predictions'));
  return (r) => {
    const factor = 1 - eps + 2 * eps * rng.float();
    return { ...r, predicted: Math.max(1, Math.round(r.output * factor)) };
  };
}

/** Lazily applies a prediction spec to a request stream in id order. */
export function* withPredictions(
  requests: Iterable<RequestSpec>,
  spec: PredictionSpec,
  seed: number,
): Generator<RequestSpec, void, undefined> {
  const predict = makePredictor(spec, seed);
  for (const r of requests) yield predict(r);
}

/**
 * Applies a prediction spec to an instance; returns a new array in the input's order
 * (requests are visited in increasing id order for the draws, whatever the array
 * order). `exact` returns a copy of the input unchanged.
 */
export function applyPredictions(requests: readonly RequestSpec[], spec: PredictionSpec, seed: number): RequestSpec[] {
  if (spec.kind === 'exact') return requests.slice();
  const predict = makePredictor(spec, seed);
  const order = requests.map((_, i) => i);
  if (requests.some((r, i) => i > 0 && r.id < (requests[i - 1]?.id ?? r.id))) {
    order.sort((i, j) => (requests[i]?.id ?? 0) - (requests[j]?.id ?? 0));
  }
  const out: RequestSpec[] = new Array<RequestSpec>(requests.length);
  for (const i of order) {
    const r = requests[i];
    if (r !== undefined) out[i] = predict(r);
  }
  return out;
}
