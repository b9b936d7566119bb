/**
 * The CPU engine in a Web Worker. Cancel: the UI sets byte 0 of the shared abort flag
 * (when the page is cross-origin isolated, SharedArrayBuffer exists) and the engine
 * stops at its next progress check; without one the UI terminates the worker.
 */
import type { FromWorker, ToWorker } from './protocol.ts';
import { runExperiment, runSweep, type RunHooks } from './runner.ts';

/** The worker's global scope (typed locally: the project compiles against the DOM lib, not the webworker lib). */
const scope = self as unknown as { postMessage(m: FromWorker): void; onmessage: ((ev: MessageEvent<ToWorker>) => void) | null };

function post(m: FromWorker): void {
  scope.postMessage(m);
}

scope.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  const flag = msg.abort ? new Int32Array(msg.abort) : undefined;
  const hooks: RunHooks = {
    onProgress: (progress) => post({ type: 'progress', id: msg.id, progress }),
    signal: { get aborted() { return flag !== undefined && Atomics.load(flag, 0) === 1; } },
  };
  try {
    if (msg.type === 'run') post({ type: 'result', id: msg.id, result: runExperiment(msg.config, hooks) });
    else post({ type: 'sweep-result', id: msg.id, result: runSweep(msg.config, hooks) });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ type: 'error', id: msg.id, name: err.name, message: err.message });
  }
};
