/**
 * Runs the policies of one instance in parallel worker threads (policy-worker.ts), for the
 * CLI's default `simulate` on a CPU with several cores. Every worker rebuilds the same
 * instance from its options, so the results are exactly the sequential ones; only
 * summaries come back (a run with --out stays in the main thread, which keeps the
 * per-request tables).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { InstanceOptions } from '../experiment/instance.ts';
import type { RunSummary } from '../metrics/summary.ts';

export interface PoolRequest {
  readonly index: number;
  readonly policy: string;
}

interface PoolItem {
  readonly index: number;
  readonly policy: string;
}

export type PoolOutcome =
  | (PoolItem & { readonly ok: true; readonly summary: RunSummary; readonly wallSeconds: number })
  | (PoolItem & { readonly ok: false; readonly error: string; readonly kind: 'stuck' | 'livelock' });

export type PoolReply = PoolOutcome | (PoolItem & { readonly crash: { name: string; message: string } });

/** Worker threads worth starting for n policies: one per core, at most n. */
export function defaultThreads(n: number): number {
  return Math.max(1, Math.min(n, availableParallelism()));
}

/** A worker running policy-worker; from the TypeScript sources (tsx, tests) through tsx's loader. */
function startWorker(data: unknown): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const url = new URL(fromSources ? './policy-worker.ts' : './policy-worker.mjs', import.meta.url);
  if (!fromSources) return new Worker(url, { workerData: data });
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

/** Runs every policy; outcomes in policy order. `onDone` sees each as it finishes. */
export function runPoliciesInWorkers(
  instance: InstanceOptions,
  costModel: string,
  policies: readonly string[],
  threads: number,
  onDone?: (o: PoolOutcome, done: number) => void,
): Promise<PoolOutcome[]> {
  return new Promise((resolve, reject) => {
    const out: (PoolOutcome | undefined)[] = new Array(policies.length);
    let next = 0;
    let done = 0;
    let failed = false;
    const workers: Worker[] = [];
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(e);
    };
    const feed = (w: Worker): void => {
      if (next < policies.length) {
        w.postMessage({ index: next, policy: policies[next] as string } satisfies PoolRequest);
        next++;
      } else w.postMessage(null);
    };
    for (let t = 0; t < Math.min(threads, policies.length); t++) {
      const w = startWorker({ instance, costModel });
      workers.push(w);
      w.on('message', (m: PoolReply) => {
        if ('crash' in m) {
          // Keep RangeError (bad input: exit 2); anything else is reported as internal.
          const e = m.crash.name === 'RangeError' ? new RangeError(m.crash.message) : new Error(m.crash.message);
          e.name = m.crash.name;
          fail(e);
          return;
        }
        out[m.index] = m;
        done++;
        onDone?.(m, done);
        if (done === policies.length) resolve(out as PoolOutcome[]);
        feed(w);
      });
      w.on('error', (e) => fail(e));
      feed(w);
    }
  });
}
