/**
 * CPU references of the calibration kernels (shaders/*.wgsl), in float64, for the
 * numerics tests. Layouts are those of the kernels (see each .wgsl file's header).
 */
export const GQA_GROUP = 8;
export const HEAD_DIM = 128;

/** Decode attention: each sequence's query (qHeads × 128) against its own KV rows. */
export function decodeAttentionRef(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  seqLens: readonly number[],
  kvHeads: number,
): Float32Array {
  const qHeads = kvHeads * GQA_GROUP;
  const o = new Float32Array(seqLens.length * qHeads * HEAD_DIM);
  const scale = 1 / Math.sqrt(HEAD_DIM);
  let first = 0;
  seqLens.forEach((len, s) => {
    for (let h = 0; h < qHeads; h++) {
      const g = Math.floor(h / GQA_GROUP);
      const qb = (s * qHeads + h) * HEAD_DIM;
      attendRow(q, qb, k, v, (j) => ((first + j) * kvHeads + g) * HEAD_DIM, len, scale, o, qb);
    }
    first += len;
  });
  return o;
}

/** Causal prefill attention over one chunk of `len` positions. */
export function prefillAttentionRef(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  len: number,
  kvHeads: number,
): Float32Array {
  const qHeads = kvHeads * GQA_GROUP;
  const o = new Float32Array(len * qHeads * HEAD_DIM);
  const scale = 1 / Math.sqrt(HEAD_DIM);
  for (let pos = 0; pos < len; pos++) {
    for (let h = 0; h < qHeads; h++) {
      const g = Math.floor(h / GQA_GROUP);
      const qb = (pos * qHeads + h) * HEAD_DIM;
      attendRow(q, qb, k, v, (j) => (j * kvHeads + g) * HEAD_DIM, pos + 1, scale, o, qb);
    }
  }
  return o;
}

function attendRow(
  q: Float32Array,
  qb: number,
  k: Float32Array,
  v: Float32Array,
  row: (j: number) => number,
  n: number,
  scale: number,
  o: Float32Array,
  ob: number,
): void {
  const s = new Float64Array(n);
  let m = -Infinity;
  for (let j = 0; j < n; j++) {
    const kb = row(j);
    let dot = 0;
    for (let d = 0; d < HEAD_DIM; d++) dot += (q[qb + d] as number) * (k[kb + d] as number);
    s[j] = dot * scale;
    if ((s[j] as number) > m) m = s[j] as number;
  }
  let sum = 0;
  for (let j = 0; j < n; j++) {
    s[j] = Math.exp((s[j] as number) - m);
    sum += s[j] as number;
  }
  for (let d = 0; d < HEAD_DIM; d++) {
    let acc = 0;
    for (let j = 0; j < n; j++) acc += (s[j] as number) * (v[row(j) + d] as number);
    o[ob + d] = n > 0 ? acc / sum : 0;
  }
}

/** Y[m × n] = X[m × k] · W[k × n], row-major. */
export function matmulRef(x: Float32Array, w: Float32Array, m: number, n: number, k: number): Float32Array {
  const y = new Float32Array(m * n);
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let kk = 0; kk < k; kk++) {
      const a = x[i * k + kk] as number;
      const wb = kk * n;
      for (let j = 0; j < n; j++) row[j] = (row[j] as number) + a * (w[wb + j] as number);
    }
    y.set(row, i * n);
  }
  return y;
}

/** Normwise relative error: max |got − want| / max |want| (∞ on a non-finite value). */
export function maxRelativeError(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) throw new Error(`length ${got.length} ≠ ${want.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    if (!Number.isFinite(g)) return Infinity;
    err = Math.max(err, Math.abs(g - w));
    scale = Math.max(scale, Math.abs(w));
  }
  return scale > 0 ? err / scale : err;
}

/** Deterministic pseudo-random values in [−1, 1) (xorshift32), for test inputs. */
export function randomArray(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    a[i] = x / 2 ** 31 - 1;
  }
  return a;
}
