/**
 * The kernel benchmark's measurements, shared by Node (bench/kernels.ts) and the
 * Chromium page (bench/kernels-page.ts): the streaming and FMA probes, then decode
 * attention, prefill attention and the linear layers at growing sizes, all on one device.
 * Targets at the largest sizes: decode ≥ 70 % of the probe's bandwidth; prefill and
 * linear ≥ 50 % of the FMA probe's FLOP rate.
 *
 * On a shared machine the CPU behind a software adapter speeds up and slows down over
 * seconds, so each kernel row is compared with its roof probe measured right before and
 * right after it (their mean): `roof` and `efficiency` in the row.
 */
import { linearWidths, type Job, type Kernels } from './kernels.ts';
import type { Measurement, Timer } from './timing.ts';

export const BENCH_WIDTH_DIVISOR = 16;
export const BENCH_TARGETS = { decodeVsStream: 0.7, prefillVsFma: 0.5, linearVsFma: 0.5 } as const;

export interface BenchRow {
  kernel: string;
  size: string;
  medianMs: number;
  spread: number;
  bytes: number;
  flops: number;
  gbPerSecond: number;
  gflopPerSecond: number;
  measurement: Measurement;
  /** Roof probe around this row: GB/s (decode) or GFLOP/s (prefill, linear); efficiency = rate / roof. */
  roof?: number;
  efficiency?: number;
}

export interface KernelBenchResult {
  efficiencies: { decodeVsStream: number; prefillVsFma: number; linearVsFma: number };
  targets: typeof BENCH_TARGETS;
  meetsTargets: { decodeVsStream: boolean; prefillVsFma: boolean; linearVsFma: boolean };
  timing: { method: string; samples: number; minIntervalMs: number };
  rows: BenchRow[];
}

/** `smoke`: the smallest sizes, one size per kernel (tests of bench:device; numbers meaningless). */
export async function runKernelBench(
  kernels: Kernels,
  timer: Timer,
  o: { quick?: boolean; smoke?: boolean; log?: (line: string) => void } = {},
): Promise<KernelBenchResult> {
  const smoke = Boolean(o.smoke);
  const quick = Boolean(o.quick) || smoke;
  const topts = smoke ? { samples: 1, minIntervalMs: 1 } : { samples: quick ? 3 : 5, minIntervalMs: 20 };
  const rows: BenchRow[] = [];
  const run = async (kernel: string, size: string, make: () => Promise<Job>): Promise<BenchRow> => {
    const j = await make();
    try {
      const m = await timer.measure(j, topts);
      const s = m.medianMs / 1000;
      const r = {
        kernel,
        size,
        medianMs: m.medianMs,
        spread: m.spread,
        bytes: j.bytes,
        flops: j.flops,
        gbPerSecond: j.bytes / s / 1e9,
        gflopPerSecond: j.flops / s / 1e9,
        measurement: m,
      };
      rows.push(r);
      o.log?.(
        `  ${kernel.padEnd(18)} ${size.padEnd(22)} ${m.medianMs.toFixed(2).padStart(9)} ms  ${r.gbPerSecond.toFixed(3)} GB/s  ${r.gflopPerSecond.toFixed(3)} GFLOP/s  spread ${(100 * m.spread).toFixed(0)} %`,
      );
      return r;
    } finally {
      j.destroy();
    }
  };
  let efficiencies: { decodeVsStream: number; prefillVsFma: number; linearVsFma: number };
  const streamJob = await kernels.streamProbe((smoke ? 4 : quick ? 64 : 256) << 20);
  const fmaJob = await kernels.fmaProbe(smoke ? 8 : 1024, 64);
  const rate = async (which: 'stream' | 'fma'): Promise<number> => {
    const j = which === 'stream' ? streamJob : fmaJob;
    const m = await timer.measure(j, topts);
    return which === 'stream' ? j.bytes / (m.medianMs / 1000) / 1e9 : j.flops / (m.medianMs / 1000) / 1e9;
  };
  const withRoof = async (
    which: 'stream' | 'fma',
    kernel: string,
    size: string,
    make: () => Promise<Job>,
  ): Promise<BenchRow> => {
    const before = await rate(which);
    const r = await run(kernel, size, make);
    const after = await rate(which);
    r.roof = (before + after) / 2;
    r.efficiency = (which === 'stream' ? r.gbPerSecond : r.gflopPerSecond) / r.roof;
    o.log?.(
      `    vs ${which} probe ${r.roof.toFixed(3)} ${which === 'stream' ? 'GB/s' : 'GFLOP/s'} (before ${before.toFixed(3)}, after ${after.toFixed(3)}): ${(100 * r.efficiency).toFixed(0)} %`,
    );
    return r;
  };
  try {
    await run('probe-stream', quick ? '64 MiB' : '256 MiB', () => Promise.resolve({ ...streamJob, destroy: () => {} }));
    await run('probe-fma', '16384 inv × 1024 it × 256 FLOP', () => Promise.resolve({ ...fmaJob, destroy: () => {} }));
    const decodeSizes: Array<[number, number]> = smoke
      ? [[2, 128]]
      : quick
        ? [
            [8, 256],
            [16, 512],
          ]
        : [
            [8, 256],
            [16, 512],
            [32, 1024],
          ];
    let decode: BenchRow | undefined;
    for (const [b, l] of decodeSizes)
      decode = await withRoof('stream', 'attn-decode', `B=${b} L=${l}`, () =>
        kernels.decode({ seqLens: new Array<number>(b).fill(l) }),
      );
    let prefill: BenchRow | undefined;
    for (const c of smoke ? [16] : quick ? [64, 128] : [64, 128, 256])
      prefill = await withRoof('fma', 'attn-prefill', `C=${c}`, () => kernels.prefill({ len: c }));
    let linear: BenchRow | undefined;
    for (const t of smoke ? [16] : quick ? [32, 128] : [32, 128, 256])
      linear = await withRoof('fma', 'linear', `T=${t} width÷${BENCH_WIDTH_DIVISOR}`, () =>
        kernels.linear(t, linearWidths(BENCH_WIDTH_DIVISOR)),
      );
    efficiencies = {
      decodeVsStream: decode?.efficiency ?? NaN,
      prefillVsFma: prefill?.efficiency ?? NaN,
      linearVsFma: linear?.efficiency ?? NaN,
    };
  } finally {
    streamJob.destroy();
    fmaJob.destroy();
  }
  return {
    efficiencies,
    targets: BENCH_TARGETS,
    meetsTargets: {
      decodeVsStream: efficiencies.decodeVsStream >= BENCH_TARGETS.decodeVsStream,
      prefillVsFma: efficiencies.prefillVsFma >= BENCH_TARGETS.prefillVsFma,
      linearVsFma: efficiencies.linearVsFma >= BENCH_TARGETS.linearVsFma,
    },
    timing: { method: timer.defaultMethod, ...topts },
    rows,
  };
}

export function benchSummary(adapter: string, r: KernelBenchResult): string {
  const e = r.efficiencies;
  return (
    `${adapter}: decode attention ${(100 * e.decodeVsStream).toFixed(0)} % of streaming bandwidth (target 70 %), ` +
    `prefill ${(100 * e.prefillVsFma).toFixed(0)} % and linear ${(100 * e.linearVsFma).toFixed(0)} % of the FMA probe (target 50 %)`
  );
}
