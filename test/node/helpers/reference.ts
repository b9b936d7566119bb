/**
 * Naive, independent reference schedulers, written from docs/model.md (§1, §3)
 * and — for vLLM — from Vidur's Python (vllm_replica_scheduler.py, base_replica_scheduler.py,
 * entities/request.py), not from src/policies. They are deliberately slow and literal:
 * - MC-SF / MC-FCFS: each round, candidates in the policy's order are added one by one and
 *   the set is checked at EVERY future round τ = t … max end (not just at the ends); the
 *   first infeasible candidate stops admission (no skipping).
 * - α-greedy / α-clearing: FCFS admission under floor((1−α)·M); overflow rule §3.6.
 * Order of steps in a round (the project's documented convention, continuous.ts):
 * outlive rule → overflow → admission → run the batch.
 *
 * Time: rounds mode, a round lasts 1 and the round index is the time; seconds mode, a
 * round lasts costModel.roundMicros(batch) µs and the round index (what the look-ahead
 * plans in) counts executed rounds only. With nothing to run, jump to the next arrival.
 */
import type { CostModel, RequestSpec, TimeMode } from '../../../src/model/types.ts';
import type { Instance } from './instances.ts';

export interface RefRequest {
  id: number;
  start: number;
  firstToken: number;
  completion: number;
  restarts: number;
}

export interface RefRound {
  start: number;
  duration: number;
  batch: number;
  prefillTokens: number;
  decodeRequests: number;
  kv: number;
  admitted: number;
  evicted: number;
  waiting: number;
}

export interface RefResult {
  /** 'done': every request completed; 'livelock': a repeated state with no arrivals left
   *  (a true cycle: no request can ever complete); 'stuck': nothing can ever run. */
  outcome: 'done' | 'livelock' | 'stuck';
  requests: RefRequest[];
  rounds: RefRound[];
  evictions: number;
}

/** floor(M · (1 − f)) for a decimal text f in [0, 1), exactly (integers only). */
export function floorOneMinus(memory: number, text: string): number {
  const m = /^0?(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`bad fraction ${text}`);
  const digits = m[1] ?? '';
  const den = 10 ** digits.length;
  const num = digits === '' ? 0 : Number(digits);
  return Math.floor((memory * (den - num)) / den);
}

type PaperKind = 'mcsf' | 'mc-fcfs' | 'alpha-greedy' | 'alpha-clearing';

interface Paper {
  kind: PaperKind;
  /** Admission limit (α policies). */
  limit: number;
  /** Tokens the overflow rule evicts down to. */
  target: number;
}

function parsePaper(spec: string, memory: number): Paper {
  const [name, a, b] = spec.split(':');
  switch (name) {
    case 'mcsf':
    case 'mc-fcfs':
      return { kind: name, limit: memory, target: memory };
    case 'alpha-greedy':
      return { kind: name, limit: floorOneMinus(memory, a ?? ''), target: memory };
    case 'alpha-clearing':
      return { kind: name, limit: floorOneMinus(memory, a ?? ''), target: floorOneMinus(memory, b ?? '') };
    default:
      throw new Error(`not a paper policy: ${spec}`);
  }
}

interface PReq {
  spec: RequestSpec;
  /** min(õ, M − s). */
  planned: number;
  view: number;
  generated: number;
  /** Round index of the latest (re)start. */
  p: number;
  start: number;
  restarts: number;
  firstToken: number;
  completion: number;
  fresh: boolean;
}

const kvOf = (r: PReq): number => r.spec.prompt + r.generated + 1;
const fcfs = (a: PReq, b: PReq): number => a.spec.arrival - b.spec.arrival || a.spec.id - b.spec.id;

/**
 * Model.md §3.1 step 4, literally: the set (running with their views, plus candidates
 * started at t with their planned length) fits at every round τ from t to the last
 * predicted end.
 */
function feasibleEveryRound(running: readonly PReq[], cands: readonly PReq[], t: number, memory: number): boolean {
  const items = [
    ...running.map((r) => ({ s: r.spec.prompt, p: r.p, e: r.p + r.view - 1 })),
    ...cands.map((c) => ({ s: c.spec.prompt, p: t, e: t + c.planned - 1 })),
  ];
  let last = t;
  for (const it of items) last = Math.max(last, it.e);
  for (let tau = t; tau <= last; tau++) {
    let total = 0;
    for (const it of items) if (it.p <= tau && tau <= it.e) total += it.s + tau - it.p + 1;
    if (total > memory) return false;
  }
  return true;
}

/** The four paper policies (model.md §3.1–3.4, 3.6). */
export function referencePaper(
  inst: Instance,
  spec: string,
  mode: TimeMode,
  cost?: CostModel,
  maxRounds = 200_000,
): RefResult {
  const M = inst.memory;
  const pol = parsePaper(spec, M);
  const all: PReq[] = inst.requests.map((s) => ({
    spec: s,
    planned: Math.min(s.predicted, M - s.prompt),
    view: 0,
    generated: 0,
    p: -1,
    start: -1,
    restarts: 0,
    firstToken: -1,
    completion: -1,
    fresh: true,
  }));
  for (const r of all) r.view = r.planned;
  const waiting: PReq[] = [];
  let running: PReq[] = [];
  const rounds: RefRound[] = [];
  let next = 0;
  let now = 0;
  let round = 0;
  let evictions = 0;
  const seen = new Set<string>();
  const result = (outcome: RefResult['outcome']): RefResult => ({
    outcome,
    evictions,
    rounds,
    requests: all
      .map((r) => ({
        id: r.spec.id,
        start: r.start,
        firstToken: r.firstToken,
        completion: r.completion,
        restarts: r.restarts,
      }))
      .sort((a, b) => a.id - b.id),
  });

  for (;;) {
    while (next < all.length && (all[next] as PReq).spec.arrival <= now) waiting.push(all[next++] as PReq);
    if (waiting.length === 0 && running.length === 0) {
      if (next >= all.length) return result('done');
      now = (all[next] as PReq).spec.arrival;
      if (mode === 'rounds') round = now;
      continue;
    }
    if (next >= all.length) {
      // No arrivals left: the state (waiting set, running set with progress) determines
      // the future; a repeat means a cycle in which nothing completes.
      const key = `${waiting
        .map((r) => r.spec.id)
        .sort((a, b) => a - b)
        .join(',')}|${running
        .map((r) => `${r.spec.id}:${r.generated}`)
        .sort()
        .join(',')}`;
      if (seen.has(key)) return result('livelock');
      seen.add(key);
    }
    if (rounds.length > maxRounds) throw new Error('reference: too many rounds');

    // 1. Outlive rule.
    for (const r of running) if (r.generated >= r.view) r.view = r.generated + 1;
    // 2. Overflow rule.
    let held = 0;
    for (const r of running) held += kvOf(r);
    let evicted = 0;
    if (held > M) {
      const victims = [...running].sort((a, b) => b.p - a.p || b.spec.id - a.spec.id);
      for (const v of victims) {
        if (held <= pol.target) break;
        held -= kvOf(v);
        running = running.filter((r) => r !== v);
        v.generated = 0;
        v.view = v.planned;
        v.restarts++;
        v.fresh = true;
        waiting.push(v);
        evicted++;
      }
    }
    evictions += evicted;
    // 3. Admission.
    const admit = (c: PReq): void => {
      waiting.splice(waiting.indexOf(c), 1);
      c.p = round;
      c.start = now;
      c.fresh = true;
      running.push(c);
    };
    let admitted = 0;
    if (pol.kind === 'mcsf' || pol.kind === 'mc-fcfs') {
      const order = [...waiting].sort(pol.kind === 'mcsf' ? (a, b) => a.view - b.view || fcfs(a, b) : fcfs);
      const added: PReq[] = [];
      for (const c of order) {
        if (!feasibleEveryRound(running, [...added, c], round, M)) break;
        added.push(c);
      }
      for (const c of added) admit(c);
      admitted = added.length;
    } else {
      for (const c of [...waiting].sort(fcfs)) {
        if (held + c.spec.prompt + 1 > pol.limit) break;
        held += c.spec.prompt + 1;
        admit(c);
        admitted++;
      }
    }
    // 4. Run the batch.
    if (running.length === 0) {
      if (next >= all.length) return result('stuck');
      now = (all[next] as PReq).spec.arrival;
      if (mode === 'rounds') round = now;
      continue;
    }
    let prefillTokens = 0;
    let prefillSquares = 0;
    let prefillRequests = 0;
    let decodeContext = 0;
    let kv = 0;
    for (const r of running) {
      kv += kvOf(r);
      if (r.fresh) {
        prefillRequests++;
        prefillTokens += r.spec.prompt;
        prefillSquares += r.spec.prompt * r.spec.prompt;
      } else decodeContext += kvOf(r);
    }
    const duration =
      mode === 'rounds'
        ? 1
        : (cost as CostModel).roundMicros({
            requests: running.length,
            prefillRequests,
            prefillTokens,
            prefillSquares,
            decodeRequests: running.length - prefillRequests,
            decodeContext,
          });
    const end = now + duration;
    const batch = running.length;
    for (const r of running) {
      r.fresh = false;
      r.generated++;
      if (r.firstToken < 0) r.firstToken = end;
      if (r.generated === r.spec.output) r.completion = end;
    }
    running = running.filter((r) => r.completion < 0);
    rounds.push({
      start: now,
      duration,
      batch,
      prefillTokens,
      decodeRequests: batch - prefillRequests,
      kv,
      admitted,
      evicted,
      waiting: waiting.length,
    });
    now = end;
    round++;
  }
}

// ---------------------------------------------------------------------------------
// vLLM, transcribed from Vidur (Python semantics: processed tokens, restart() turning
// processed tokens into prefill tokens, an allocation map, a list of running requests
// awaiting their next decode). Project conventions on top (model.md §3.5, vllm.ts):
// ties in arrival go by id; an empty batch caused by preemption is retried once at the
// same time.

interface VReq {
  spec: RequestSpec;
  numPrefill: number;
  numDecode: number;
  processed: number;
  prefillComplete: boolean;
  restarts: number;
  start: number;
  firstToken: number;
  completion: number;
}

export interface VllmRefConfig {
  maxTokens: number;
  maxBatch: number;
}

/** maxTokens / maxBatch of a `vllm[:maxTokens[:maxBatch]]` spec. */
export function vllmConfig(spec: string): VllmRefConfig {
  const [, a, b] = spec.split(':');
  return { maxTokens: a === undefined ? 4096 : Number(a), maxBatch: b === undefined ? 128 : Number(b) };
}

export function referenceVllm(
  inst: Instance,
  mode: TimeMode,
  cost?: CostModel,
  cfg: VllmRefConfig = { maxTokens: 4096, maxBatch: 128 },
): RefResult {
  const BLOCK = 16;
  const totalBlocks = Math.floor(inst.memory / BLOCK);
  const watermark = Math.floor(totalBlocks / 100);
  const all: VReq[] = inst.requests.map((s) => ({
    spec: s,
    numPrefill: s.prompt,
    numDecode: s.output,
    processed: 0,
    prefillComplete: false,
    restarts: 0,
    start: -1,
    firstToken: -1,
    completion: -1,
  }));
  let queue: VReq[] = [];
  const preempted: VReq[] = []; // running requests not yet in this round's batch
  const allocation = new Map<VReq, number>();
  let allocated = 0;
  const rounds: RefRound[] = [];
  let evictions = 0;
  let next = 0;
  let now = 0;
  let retried = false;
  // Preemptions of an empty-batch call that is retried at the same time belong to the
  // round that then runs (so that Σ evicted over the round table = all preemptions).
  let carried = 0;

  const canAllocate = (r: VReq): boolean => {
    if (!allocation.has(r)) return totalBlocks - allocated - Math.ceil(r.numPrefill / BLOCK) >= watermark;
    return totalBlocks - allocated >= 1;
  };
  const allocate = (r: VReq, n: number): void => {
    allocated += n;
    allocation.set(r, (allocation.get(r) ?? 0) + n);
    if (allocated > totalBlocks) throw new Error('reference vllm: over-allocated');
  };
  const allocateRequest = (r: VReq): void => {
    const have = allocation.get(r);
    if (have === undefined) {
      allocate(r, Math.ceil(r.numPrefill / BLOCK));
      return;
    }
    const required = Math.max(0, r.processed - have * BLOCK);
    if (required !== 0 && required !== 1) throw new Error(`reference vllm: ${required} tokens required`);
    if (required === 1) allocate(r, 1);
  };
  const free = (r: VReq): void => {
    allocated -= allocation.get(r) ?? 0;
    allocation.delete(r);
  };
  const restart = (r: VReq): void => {
    const total = r.numPrefill + r.numDecode;
    r.numPrefill = r.processed;
    r.numDecode = total - r.numPrefill;
    r.processed = 0;
    r.prefillComplete = false;
    r.restarts++;
    evictions++;
  };
  const nextTokens = (r: VReq): number => (r.prefillComplete ? 1 : r.numPrefill);

  for (;;) {
    while (next < all.length && (all[next] as VReq).spec.arrival <= now) queue.push(all[next++] as VReq);
    if (queue.length === 0 && allocation.size === 0) {
      if (next >= all.length) break;
      now = (all[next] as VReq).spec.arrival;
      continue;
    }
    // _get_next_batch
    const batch: VReq[] = [];
    const tokens: number[] = [];
    let evictedNow = 0;
    while (queue.length > 0) {
      const r = queue[0] as VReq;
      const nt = nextTokens(r);
      if (!canAllocate(r)) break;
      const nts = [...tokens, nt];
      if (nts.length * Math.max(...nts) > cfg.maxTokens) break;
      if (allocation.size === cfg.maxBatch) break;
      if (batch.length === cfg.maxBatch) break;
      queue.shift();
      allocateRequest(r);
      r.start = now;
      batch.push(r);
      tokens.push(nt);
    }
    const admitted = batch.length;
    if (batch.length === 0) {
      preempted.sort((a, b) => a.spec.arrival - b.spec.arrival || a.spec.id - b.spec.id);
      while (preempted.length > 0) {
        if (batch.length === cfg.maxBatch) break;
        const r = preempted.shift() as VReq;
        let ok = true;
        while (!canAllocate(r)) {
          if (preempted.length > 0) {
            const victim = preempted.pop() as VReq;
            restart(victim);
            free(victim);
            queue = [victim, ...queue];
            evictedNow++;
          } else {
            restart(r);
            free(r);
            queue = [r, ...queue];
            evictedNow++;
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        allocateRequest(r);
        batch.push(r);
        tokens.push(nextTokens(r));
      }
    }
    if (batch.length === 0) {
      if (evictedNow > 0 && !retried) {
        retried = true;
        carried += evictedNow;
        continue;
      }
      retried = false;
      carried = 0;
      if (next < all.length) {
        now = (all[next] as VReq).spec.arrival;
        continue;
      }
      return { outcome: 'stuck', evictions, rounds, requests: all.map(vOut).sort((a, b) => a.id - b.id) };
    }
    retried = false;
    let prefillRequests = 0;
    let prefillTokens = 0;
    let prefillSquares = 0;
    let decodeContext = 0;
    for (const r of batch) {
      if (!r.prefillComplete) {
        prefillRequests++;
        prefillTokens += r.numPrefill;
        prefillSquares += r.numPrefill * r.numPrefill;
      } else decodeContext += r.processed + 1;
    }
    const duration =
      mode === 'rounds'
        ? 1
        : (cost as CostModel).roundMicros({
            requests: batch.length,
            prefillRequests,
            prefillTokens,
            prefillSquares,
            decodeRequests: batch.length - prefillRequests,
            decodeContext,
          });
    const kv = allocated * BLOCK;
    const end = now + duration;
    // on_batch_end
    batch.forEach((r, i) => {
      r.processed += tokens[i] as number;
      if (r.processed === r.numPrefill) {
        r.prefillComplete = true;
        r.processed += 1;
      }
      if (r.firstToken < 0) r.firstToken = end;
      if (r.processed === r.numPrefill + r.numDecode) {
        r.completion = end;
        free(r);
      } else preempted.push(r);
    });
    rounds.push({
      start: now,
      duration,
      batch: batch.length,
      prefillTokens,
      decodeRequests: batch.length - prefillRequests,
      kv,
      admitted,
      evicted: evictedNow + carried,
      waiting: queue.length,
    });
    carried = 0;
    now = end;
    if (rounds.length > 200_000) throw new Error('reference vllm: too many rounds');
  }
  return { outcome: 'done', evictions, rounds, requests: all.map(vOut).sort((a, b) => a.id - b.id) };
}

function vOut(r: VReq): RefRequest {
  return { id: r.spec.id, start: r.start, firstToken: r.firstToken, completion: r.completion, restarts: r.restarts };
}

// Sarathi-Serve, transcribed from Vidur's sarathi_replica_scheduler.py on the same Python
// semantics as referenceVllm (processed tokens, restart(), an allocation map, the list
// `_preempted_requests` in Vidur's order: left-overs sorted by arrival, then the last
// batch appended by on_batch_end). Project conventions on top (model.md §3.9): ties in
// arrival by id; a request preempted mid-prefill restarts with its whole prefill (Vidur's
// restart() would turn the unprocessed prompt into decode tokens); an empty batch caused by
// preemption is retried once at the same time.

export interface SarathiRefConfig {
  chunk: number;
  maxBatch: number;
}

export function sarathiConfigOf(spec: string): SarathiRefConfig {
  const [, a, b] = spec.split(':');
  return { chunk: a === undefined ? 512 : Number(a), maxBatch: b === undefined ? 128 : Number(b) };
}

export function referenceSarathi(
  inst: Instance,
  mode: TimeMode,
  cost: CostModel | undefined,
  cfg: SarathiRefConfig,
): RefResult {
  const BLOCK = 16;
  const totalBlocks = Math.floor(inst.memory / BLOCK);
  const watermark = Math.floor(totalBlocks / 100);
  const all: VReq[] = inst.requests.map((s) => ({
    spec: s,
    numPrefill: s.prompt,
    numDecode: s.output,
    processed: 0,
    prefillComplete: false,
    restarts: 0,
    start: -1,
    firstToken: -1,
    completion: -1,
  }));
  let queue: VReq[] = [];
  let preempted: VReq[] = [];
  const allocation = new Map<VReq, number>();
  let allocated = 0;
  const rounds: RefRound[] = [];
  let evictions = 0;
  let next = 0;
  let now = 0;
  let retried = false;
  let carried = 0;
  const byArrival = (a: VReq, b: VReq): number => a.spec.arrival - b.spec.arrival || a.spec.id - b.spec.id;

  const canAllocate = (r: VReq): boolean => {
    if (!allocation.has(r)) return totalBlocks - allocated - Math.ceil(r.numPrefill / BLOCK) >= watermark;
    return totalBlocks - allocated >= 1;
  };
  const allocate = (r: VReq, n: number): void => {
    allocated += n;
    allocation.set(r, (allocation.get(r) ?? 0) + n);
    if (allocated > totalBlocks) throw new Error('reference sarathi: over-allocated');
  };
  const allocateRequest = (r: VReq): void => {
    const have = allocation.get(r);
    if (have === undefined) {
      allocate(r, Math.ceil(r.numPrefill / BLOCK));
      return;
    }
    const required = Math.max(0, r.processed - have * BLOCK);
    if (required !== 0 && required !== 1) throw new Error(`reference sarathi: ${required} tokens required`);
    if (required === 1) allocate(r, 1);
  };
  const free = (r: VReq): void => {
    allocated -= allocation.get(r) ?? 0;
    allocation.delete(r);
  };
  const restart = (r: VReq): void => {
    if (r.prefillComplete) {
      const total = r.numPrefill + r.numDecode;
      r.numPrefill = r.processed;
      r.numDecode = total - r.numPrefill;
    }
    r.processed = 0;
    r.prefillComplete = false;
    r.restarts++;
    evictions++;
  };
  const nextTokens = (r: VReq, batchTokens: number): number =>
    r.prefillComplete ? 1 : Math.max(0, Math.min(r.numPrefill - r.processed, cfg.chunk - batchTokens));

  for (;;) {
    while (next < all.length && (all[next] as VReq).spec.arrival <= now) queue.push(all[next++] as VReq);
    if (queue.length === 0 && allocation.size === 0) {
      if (next >= all.length) break;
      now = (all[next] as VReq).spec.arrival;
      continue;
    }
    // _get_next_batch
    const batch: VReq[] = [];
    const tokens: number[] = [];
    const skipped: VReq[] = [];
    const runningPrefills: VReq[] = [];
    let batchTokens = 0;
    let evictedNow = 0;
    while (preempted.length > 0) {
      if (batch.length === cfg.maxBatch) break;
      const r = preempted.shift() as VReq;
      if (!r.prefillComplete) {
        runningPrefills.push(r);
        continue;
      }
      const nt = nextTokens(r, batchTokens);
      let ok = true;
      while (!canAllocate(r)) {
        const victim = preempted.length > 0 ? (preempted.pop() as VReq) : r;
        restart(victim);
        free(victim);
        queue = [victim, ...queue];
        evictedNow++;
        if (victim === r) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      allocateRequest(r);
      batchTokens += nt;
      batch.push(r);
      tokens.push(nt);
    }
    for (const r of runningPrefills) {
      const nt = nextTokens(r, batchTokens);
      if (nt === 0) {
        skipped.push(r);
        continue;
      }
      batchTokens += nt;
      batch.push(r);
      tokens.push(nt);
    }
    preempted = [...skipped, ...preempted].sort(byArrival);
    let admitted = 0;
    while (queue.length > 0) {
      if (allocation.size === cfg.maxBatch) break;
      if (batch.length === cfg.maxBatch) break;
      const r = queue[0] as VReq;
      if (!canAllocate(r)) break;
      const nt = nextTokens(r, batchTokens);
      if (nt === 0) break;
      queue.shift();
      allocateRequest(r);
      r.start = now;
      admitted++;
      batchTokens += nt;
      batch.push(r);
      tokens.push(nt);
    }
    if (batch.length === 0) {
      if (evictedNow > 0 && !retried) {
        retried = true;
        carried += evictedNow;
        continue;
      }
      retried = false;
      carried = 0;
      if (next < all.length) {
        now = (all[next] as VReq).spec.arrival;
        continue;
      }
      return { outcome: 'stuck', evictions, rounds, requests: all.map(vOut).sort((a, b) => a.id - b.id) };
    }
    retried = false;
    let prefillRequests = 0;
    let prefillTokens = 0;
    let prefillSquares = 0;
    let decodeContext = 0;
    batch.forEach((r, i) => {
      const c = tokens[i] as number;
      if (!r.prefillComplete) {
        prefillRequests++;
        prefillTokens += c;
        prefillSquares += (r.processed + c) ** 2 - r.processed ** 2;
      } else decodeContext += r.processed + 1;
    });
    const duration =
      mode === 'rounds'
        ? 1
        : (cost as CostModel).roundMicros({
            requests: batch.length,
            prefillRequests,
            prefillTokens,
            prefillSquares,
            decodeRequests: batch.length - prefillRequests,
            decodeContext,
          });
    const kv = allocated * BLOCK;
    const end = now + duration;
    // on_batch_end (Batch.on_batch_end → Request.on_batch_end, then the scheduler's)
    batch.forEach((r, i) => {
      r.processed += tokens[i] as number;
      if (r.processed === r.numPrefill) {
        r.prefillComplete = true;
        r.processed += 1;
        if (r.firstToken < 0) r.firstToken = end;
      }
      if (r.processed === r.numPrefill + r.numDecode) {
        r.completion = end;
        free(r);
      } else preempted.push(r);
    });
    rounds.push({
      start: now,
      duration,
      batch: batch.length,
      prefillTokens,
      decodeRequests: batch.length - prefillRequests,
      kv,
      admitted,
      evicted: evictedNow + carried,
      waiting: queue.length,
    });
    carried = 0;
    now = end;
    if (rounds.length > 200_000) throw new Error('reference sarathi: too many rounds');
  }
  return { outcome: 'done', evictions, rounds, requests: all.map(vOut).sort((a, b) => a.id - b.id) };
}

// Orca, transcribed from Vidur's orca_replica_scheduler.py (with base_replica_scheduler.py):
// every admission allocates max_tokens // 16 blocks; `_max_batch_size` is the number of such
// reservations memory holds, capped by maxBatch; the running list is popped from the front
// and the last batch appended. Requests prefill their whole prompt.

export function referenceOrca(
  inst: Instance,
  mode: TimeMode,
  cost: CostModel | undefined,
  maxBatch: number,
  maxTokens: number,
): RefResult {
  const BLOCK = 16;
  const totalBlocks = Math.floor(inst.memory / BLOCK);
  const perSeq = Math.floor(maxTokens / BLOCK);
  const maxBatchSize = Math.min(maxBatch, Math.floor(totalBlocks / perSeq));
  const all: VReq[] = inst.requests.map((s) => ({
    spec: s,
    numPrefill: s.prompt,
    numDecode: s.output,
    processed: 0,
    prefillComplete: false,
    restarts: 0,
    start: -1,
    firstToken: -1,
    completion: -1,
  }));
  const queue: VReq[] = [];
  const preempted: VReq[] = [];
  let allocated = 0;
  let holding = 0;
  const rounds: RefRound[] = [];
  let next = 0;
  let now = 0;
  for (;;) {
    while (next < all.length && (all[next] as VReq).spec.arrival <= now) queue.push(all[next++] as VReq);
    if (queue.length === 0 && holding === 0) {
      if (next >= all.length) break;
      now = (all[next] as VReq).spec.arrival;
      continue;
    }
    const batch: VReq[] = [];
    while (preempted.length > 0) {
      if (batch.length === maxBatchSize) break;
      batch.push(preempted.shift() as VReq);
    }
    let admitted = 0;
    while (queue.length > 0) {
      if (batch.length === maxBatchSize) break;
      if (totalBlocks - allocated < perSeq) break;
      const r = queue.shift() as VReq;
      allocated += perSeq;
      holding++;
      r.start = now;
      admitted++;
      batch.push(r);
    }
    if (batch.length === 0) {
      if (next < all.length) {
        now = (all[next] as VReq).spec.arrival;
        continue;
      }
      return { outcome: 'stuck', evictions: 0, rounds, requests: all.map(vOut).sort((a, b) => a.id - b.id) };
    }
    let prefillRequests = 0;
    let prefillTokens = 0;
    let prefillSquares = 0;
    let decodeContext = 0;
    for (const r of batch) {
      if (!r.prefillComplete) {
        prefillRequests++;
        prefillTokens += r.numPrefill;
        prefillSquares += r.numPrefill * r.numPrefill;
      } else decodeContext += r.processed + 1;
    }
    const duration =
      mode === 'rounds'
        ? 1
        : (cost as CostModel).roundMicros({
            requests: batch.length,
            prefillRequests,
            prefillTokens,
            prefillSquares,
            decodeRequests: batch.length - prefillRequests,
            decodeContext,
          });
    const kv = allocated * BLOCK;
    const end = now + duration;
    for (const r of batch) {
      r.processed += r.prefillComplete ? 1 : r.numPrefill;
      if (!r.prefillComplete && r.processed === r.numPrefill) {
        r.prefillComplete = true;
        r.processed += 1;
        r.firstToken = end;
      }
      if (r.processed === r.numPrefill + r.numDecode) {
        r.completion = end;
        allocated -= perSeq;
        holding--;
      } else preempted.push(r);
    }
    rounds.push({
      start: now,
      duration,
      batch: batch.length,
      prefillTokens,
      decodeRequests: batch.length - prefillRequests,
      kv,
      admitted,
      evicted: 0,
      waiting: queue.length,
    });
    now = end;
    if (rounds.length > 200_000) throw new Error('reference orca: too many rounds');
  }
  return { outcome: 'done', evictions: 0, rounds, requests: all.map(vOut).sort((a, b) => a.id - b.id) };
}
