/**
 * Numerics cases shared by test/browser/kernels.test.ts (headless Chromium) and
 * test/node/kernels-dawn.test.ts (Node + Dawn): each runs a kernel on small inputs and
 * returns its normwise relative error against the CPU reference (src/gpu/reference.ts).
 * Sizes are small: SwiftShader is slow on barrier-heavy kernels.
 */
import type { Kernels, ReadableJob } from '../src/gpu/kernels.ts';
import {
  decodeAttentionRef,
  GQA_GROUP,
  HEAD_DIM,
  matmulRef,
  maxRelativeError,
  prefillAttentionRef,
  randomArray,
} from '../src/gpu/reference.ts';

export const F32_TOLERANCE = 1e-4;

export interface KernelCase {
  readonly name: string;
  run(k: Kernels): Promise<number>;
}

/** Runs a job once in its own pass and submit, reads its output, frees its buffers. */
async function runOnce(k: Kernels, job: ReadableJob): Promise<Float32Array> {
  try {
    const enc = k.session.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    job.encode(pass);
    pass.end();
    k.session.device.queue.submit([enc.finish()]);
    return await job.read();
  } finally {
    job.destroy();
  }
}

function decodeCase(seqLens: number[], kvHeads: number, seed: number, workgroups?: number): KernelCase {
  return {
    name: `decode attention, ${kvHeads} KV heads (${kvHeads * GQA_GROUP} query heads), lengths ${seqLens.join(',')}${workgroups ? `, ${workgroups} workgroups` : ''}`,
    async run(k) {
      const tokens = seqLens.reduce((a, b) => a + b, 0);
      const q = randomArray(seqLens.length * kvHeads * GQA_GROUP * HEAD_DIM, seed);
      const kk = randomArray(tokens * kvHeads * HEAD_DIM, seed + 1);
      const v = randomArray(tokens * kvHeads * HEAD_DIM, seed + 2);
      const job = await k.decode({ seqLens, kvHeads, q, k: kk, v, ...(workgroups ? { workgroups } : {}) });
      return maxRelativeError(await runOnce(k, job), decodeAttentionRef(q, kk, v, seqLens, kvHeads));
    },
  };
}

function prefillCase(len: number, kvHeads: number, seed: number, workgroups?: number): KernelCase {
  return {
    name: `prefill attention (causal), ${kvHeads} KV heads, chunk ${len}${workgroups ? `, ${workgroups} workgroups` : ''}`,
    async run(k) {
      const q = randomArray(len * kvHeads * GQA_GROUP * HEAD_DIM, seed);
      const kk = randomArray(len * kvHeads * HEAD_DIM, seed + 1);
      const v = randomArray(len * kvHeads * HEAD_DIM, seed + 2);
      const job = await k.prefill({ len, kvHeads, q, k: kk, v, ...(workgroups ? { workgroups } : {}) });
      return maxRelativeError(await runOnce(k, job), prefillAttentionRef(q, kk, v, len, kvHeads));
    },
  };
}

function matmulCase(m: number, n: number, kd: number, seed: number, variant?: 'cpu' | 'gpu'): KernelCase {
  return {
    name: `matmul${variant ? ` (${variant} variant)` : ''} ${m}×${kd} · ${kd}×${n} (ragged tiles)`,
    async run(k) {
      const x = randomArray(m * kd, seed);
      const w = randomArray(kd * n, seed + 1);
      const job = await k.matmul({ m, n, k: kd, x, w, ...(variant ? { variant } : {}) });
      return maxRelativeError(await runOnce(k, job), matmulRef(x, w, m, n, kd));
    },
  };
}

export const KERNEL_CASES: KernelCase[] = [
  // Lengths not multiples of the 64-token tile, one sequence shorter than a tile.
  decodeCase([5, 70, 130], 2, 11),
  // Full Llama-2-70B head geometry (64 query heads, 8 KV heads).
  decodeCase([33, 65], 8, 21),
  // Longer than one 256-token tile.
  decodeCase([300, 7, 513], 1, 71),
  // Persistent workgroups: 3 workgroups loop over 5 × 2 (sequence, KV head) items.
  decodeCase([9, 1, 64, 65, 3], 2, 91, 3),
  // One workgroup loops over four items of two tiles each (state must restart per item and tile).
  decodeCase([300, 270], 2, 101, 1),
  prefillCase(21, 2, 31),
  prefillCase(12, 8, 41),
  prefillCase(27, 1, 43, 3),
  prefillCase(17, 2, 47, 1000),
  matmulCase(37, 68, 44, 51),
  matmulCase(64, 128, 96, 61),
  matmulCase(40, 260, 36, 81),
  // Several 256-column and 32-row blocks of Y, ragged in both.
  matmulCase(70, 520, 68, 83),
  // Both variants whatever the adapter (SwiftShader here would otherwise only run 'cpu').
  matmulCase(70, 520, 68, 85, 'cpu'),
  matmulCase(70, 260, 68, 87, 'gpu'),
  matmulCase(37, 68, 44, 89, 'gpu'),
];

/**
 * The streaming probe reads every element exactly once, in both layouts: the sum of its
 * per-invocation sums equals the sum of the data (small integers: exact in f32).
 */
export async function streamProbeSumsAll(k: Kernels): Promise<boolean> {
  const n = (16384 * 3 + 37) * 8; // vec4s: rows of 8, not a multiple of the invocations
  const data = new Float32Array(n * 4).map((_, i) => (i % 5) - 2 + (i % 3));
  const want = data.reduce((a, b) => a + b, 0);
  for (const layout of ['strided', 'contiguous'] as const) {
    const got = (await runOnce(k, await k.streamProbe(n * 16, { layout, data }))).reduce((a, b) => a + b, 0);
    if (got !== want) return false;
  }
  return true;
}

/** The FMA probe computes something (not zeros) — guards against a do-nothing backend. */
export async function fmaProbeWorks(k: Kernels): Promise<boolean> {
  const out = await runOnce(k, await k.fmaProbe(16, 1));
  return out.every((x) => Number.isFinite(x)) && out.some((x) => x !== 0);
}
