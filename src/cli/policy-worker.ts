/**
 * Worker thread of the CLI's policy pool (policy-pool.ts): rebuilds the instance from its
 * options (deterministic: the same requests as the main thread's), then runs each policy
 * it is sent and posts back the summary, or why the policy could not finish.
 */
import { parentPort, workerData } from 'node:worker_threads';
import '../calibrate/profile-node.ts'; // `profile:FILE` cost models
import { getCostModel } from '../cost/registry.ts';
import { buildInstance, type InstanceOptions } from '../experiment/instance.ts';
import { runPolicy } from '../experiment/run.ts';
import type { PoolReply, PoolRequest } from './policy-pool.ts';

const { instance: options, costModel: costName } = workerData as { instance: InstanceOptions; costModel: string };
const instance = buildInstance(options);
const costModel = getCostModel(costName);
const port = parentPort;
if (port === null) throw new Error('policy-worker.ts runs only as a worker thread');

port.on('message', (m: PoolRequest | null) => {
  if (m === null) {
    port.close();
    return;
  }
  let reply: PoolReply;
  try {
    const o = runPolicy(instance, m.policy, { costModel });
    reply = o.ok
      ? { index: m.index, policy: o.policy, ok: true, summary: o.summary, wallSeconds: o.wallSeconds }
      : { index: m.index, policy: o.policy, ok: false, error: o.error, kind: o.kind };
  } catch (e) {
    reply = { index: m.index, policy: m.policy, crash: { name: (e as Error).name, message: (e as Error).message } };
  }
  port.postMessage(reply);
});
