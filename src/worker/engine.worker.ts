/**
 * The engines in a Web Worker: the CPU engine, the GPU engine when the worker has
 * navigator.gpu (else it answers `NoWorkerWebGpu` and the client runs the GPU engine on
 * the main thread), and the hindsight optimum. Cancel: the UI sets byte 0 of the shared
 * abort flag (when the page is cross-origin isolated, SharedArrayBuffer exists) and the
 * engine stops at its next progress check; without one the UI terminates the worker.
 */
import { runGpuExperiment } from './gpu-runner.ts';
import { runOptimum } from './optimum-runner.ts';
import { NO_WORKER_WEBGPU, type FromWorker, type ToWorker } from './protocol.ts';
import { requestsCsv, runCapacity, runExperiment, runSweep, type RunHooks } from './runner.ts';

/** The worker's global scope (typed locally: the project compiles against the DOM lib, not the webworker lib). */
const scope = self as unknown as {
  postMessage(m: FromWorker): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
  navigator?: { gpu?: GPU };
};

function post(m: FromWorker): void {
  scope.postMessage(m);
}

scope.onmessage = (ev: MessageEvent<ToWorker>) => {
  void handle(ev);
};

async function handle(ev: MessageEvent<ToWorker>): Promise<void> {
  const msg = ev.data;
  const flag = msg.abort ? new Int32Array(msg.abort) : undefined;
  const hooks: RunHooks = {
    onProgress: (progress) => post({ type: 'progress', id: msg.id, progress }),
    signal: {
      get aborted() {
        return flag !== undefined && Atomics.load(flag, 0) === 1;
      },
    },
  };
  try {
    if (msg.type === 'run') {
      if (msg.config.engine === 'gpu') {
        const gpu = scope.navigator?.gpu;
        if (gpu === undefined) {
          post({
            type: 'error',
            id: msg.id,
            name: NO_WORKER_WEBGPU,
            message: 'navigator.gpu is undefined in the worker',
          });
          return;
        }
        post({ type: 'result', id: msg.id, result: await runGpuExperiment(msg.config, gpu, 'in the worker', hooks) });
      } else {
        post({ type: 'result', id: msg.id, result: runExperiment(msg.config, hooks) });
      }
    } else if (msg.type === 'sweep') post({ type: 'sweep-result', id: msg.id, result: runSweep(msg.config, hooks) });
    else if (msg.type === 'capacity')
      post({ type: 'capacity-result', id: msg.id, result: runCapacity(msg.config, hooks) });
    else if (msg.type === 'requests-csv')
      post({ type: 'requests-csv-result', id: msg.id, csv: requestsCsv({ ...msg.config, engine: 'cpu' }, hooks) });
    else post({ type: 'optimum-result', id: msg.id, result: await runOptimum(msg.config, msg.timeLimitSec, hooks) });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ type: 'error', id: msg.id, name: err.name, message: err.message });
  }
}
