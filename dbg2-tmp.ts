import { prepare } from './src/theory/problem.ts';
import { policySchedules, bestPolicySchedule } from './src/theory/incumbent.ts';
import { branchAndBound } from './src/theory/bnb.ts';
import { DEFAULT_BOUND_OPTIONS } from './src/theory/defaults.ts';
import { paperSynthetic } from './src/workload/generators.ts';
for (const n of [250, 500, 1000, 2000]) {
const w = paperSynthetic({ seed: 1, arrivals: 'poisson', mode: 'rounds', requests: n });
const inst = { memory: w.memory, requests: w.requests };
const p = prepare(inst);
const inc = bestPolicySchedule(policySchedules(inst, p))!;
let t = Date.now();
const r = branchAndBound(p, { incumbent: { starts: inc.starts, value: inc.total }, bound: DEFAULT_BOUND_OPTIONS, timeLimitSec: 0.001 });
console.log(n, Date.now() - t, 'ms', r.nodes);
}
