import { checkRequest, checkTime } from '../model/limits.ts';
import type { BatchStats, CostModel, RequestSpec, TimeMode } from '../model/types.ts';
import { DONE, LiveRequest, RUNNING, WAITING } from './live.ts';
import type { Policy, RoundContext } from './policy.ts';
import { idleJoules, requestEnergyShare, roundJoules as joulesOfRound, type PowerModel } from '../cost/energy.ts';
import { RequestTable, RoundTable } from './results.ts';

export interface SimulateOptions {
  /** KV capacity M (tokens). */
  memory: number;
  mode: TimeMode;
  /** Round durations in seconds mode (required there); in rounds mode used only for energy. */
  costModel?: CostModel;
  /** Power model for energy (src/cost/energy.ts); none → energy 0. Rounds mode has no
   *  idle time; its round energy uses the cost model's duration of each batch. */
  power?: PowerModel;
  /** Keep the per-round trace (default true). Off for very long runs. */
  keepRounds?: boolean;
  /** Called every `progressEvery` rounds (default 4096) and at the end. */
  onProgress?: (p: Progress) => void;
  progressEvery?: number;
  /** Checked with the progress callback: aborts the run with an AbortError. */
  signal?: { readonly aborted: boolean };
  /** An adaptive source of arrivals (rounds mode only), e.g. the lower-bound adversary. */
  adaptive?: AdaptiveArrivals;
}

/** What an adaptive arrival source sees at the start of a round. */
export interface Observation {
  readonly round: number;
  readonly now: number;
  /** Latest start round of every request started so far (by id). */
  readonly starts: ReadonlyMap<number, number>;
  /** Requests completed so far. */
  readonly completed: number;
}

/**
 * Releases requests in reaction to the policy's decisions: asked at the start of every
 * round (before admissions) for the requests arriving in that round. The engine never
 * skips a round while the source is active, so it observes every round.
 */
export interface AdaptiveArrivals {
  /** Requests arriving now (arrival must equal `obs.now`; ids unique across the run),
   *  or null once the source will release nothing more. */
  poll(obs: Observation): readonly RequestSpec[] | null;
}

export interface Progress {
  round: number;
  now: number;
  completed: number;
  waiting: number;
  running: number;
}

export interface SimulationResult {
  policy: string;
  memory: number;
  mode: TimeMode;
  costModel: string | null;
  requests: RequestTable;
  rounds: RoundTable | null;
  totals: RunTotals;
}

export interface RunTotals {
  /** Executed rounds. */
  rounds: number;
  /** Time the last round ended (run's unit). */
  end: number;
  /** Σ of executed round durations (run's unit). */
  busy: number;
  /** Σ over executed rounds of batch size = tokens generated, including lost progress. */
  tokensGenerated: number;
  evictions: number;
  peakKv: number;
  /** Σ kv · duration over executed rounds (for the time-averaged KV use). */
  kvTime: number;
  activeJoules: number;
  idleJoules: number;
  /** Requests simulated. */
  requests: number;
}

/** Raised when requests wait forever: the policy can never start the head of its queue. */
export class StuckError extends Error {
  override name = 'StuckError';
}

/**
 * Raised when a policy evicts and restarts requests in a cycle that never completes
 * one (possible for α-clearing: clearing to (1−β)·M can evict a request that needs more
 * than that, every time it comes back). Detected with proof: once no request has
 * completed for 4·M + 64 rounds with evictions among them and no arrival is left, the
 * engine records the policy's state (`Policy.stateKey`, relative to the current round)
 * each round; the run is deterministic from there, so a repeated state is a cycle that
 * never completes anything. A run that is merely slow, or that a later arrival would
 * unblock, is never stopped.
 */
export class LivelockError extends Error {
  override name = 'LivelockError';
}

/** A batch whose prefill Σ s² leaves the exact range: name the longest prompt, not the cost model's field. */
function squaresError(batch: readonly LiveRequest[], round: number): RangeError {
  const longest = batch.reduce((m, r) => (r.prefillPending && r.prompt + r.generated > m.prompt + m.generated ? r : m));
  const p = longest.prompt + longest.generated;
  return new RangeError(
    `round ${round}: request ${longest.id}'s prefill of ${p} tokens makes the batch's Σ s² exceed 2^53; ` +
      `a cost model cannot price prompts this long exactly (a round's prompts must total ≤ 94,906,265 tokens)`,
  );
}

/**
 * The CPU reference engine: simulates one instance under one policy and returns every
 * request's schedule and the per-round batch trace.
 *
 * Requests stream in arrival order (ties by id) and become eligible at the first round
 * whose start time is ≥ their arrival. A round runs the batch the policy returns: each
 * member produces one token; prefill members process prompt (+ kept tokens) first.
 * Rounds mode: a round lasts 1. Seconds mode: it lasts `costModel.roundMicros(batch)` µs.
 * With nothing to run, the engine jumps to the next arrival (an idle gap).
 */
export function simulate(requests: Iterable<RequestSpec>, policy: Policy, opts: SimulateOptions): SimulationResult {
  const { memory, mode } = opts;
  if (!Number.isSafeInteger(memory) || memory < 2) throw new RangeError(`memory M must be an integer ≥ 2, got ${memory}`);
  const cost = opts.costModel;
  if (mode === 'seconds' && cost === undefined) throw new Error('seconds mode needs a cost model');
  const power = opts.power;
  const keepRounds = opts.keepRounds ?? true;
  const progressEvery = opts.progressEvery ?? 4096;

  const table = new RequestTable();
  const rounds = keepRounds ? new RoundTable() : null;
  const totals: RunTotals = {
    rounds: 0, end: 0, busy: 0, tokensGenerated: 0, evictions: 0, peakKv: 0, kvTime: 0,
    activeJoules: 0, idleJoules: 0, requests: 0,
  };

  const it = requests[Symbol.iterator]();
  let pending: RequestSpec | undefined;
  let last: RequestSpec | undefined;
  const pull = (): void => {
    const n = it.next();
    pending = n.done ? undefined : n.value;
    if (pending === undefined) return;
    checkRequest(pending, memory, last);
    last = pending;
    totals.requests++;
  };
  pull();

  let round = 0;
  let now = 0;
  let seq = 0;
  let admitted = 0;
  let evicted = 0;
  let retried = false;
  // Livelock watchdog: rounds since the last completion, evictions since then.
  let roundsSinceCompletion = 0;
  let evictionsSinceCompletion = 0;
  const watchdog = 4 * memory + 64;
  const statesSeen = new Map<string, number>();
  const ctx: RoundContext = {
    get round() { return round; },
    get now() { return now; },
    memory,
    admit(r) {
      if (r.phase !== WAITING) throw new Error(`policy ${policy.spec} admitted request ${r.id} that is not waiting`);
      r.phase = RUNNING;
      r.start = now;
      r.startRound = round;
      r.seq = seq++;
      admitted++;
      if (adaptive) starts.set(r.id, round);
    },
    evict(r, keepGenerated) {
      if (r.phase !== RUNNING) throw new Error(`policy ${policy.spec} evicted request ${r.id} that is not running`);
      r.phase = WAITING;
      r.restarts++;
      if (!keepGenerated) r.generated = 0;
      r.prefillPending = true;
      r.view = r.planned;
      evicted++;
      totals.evictions++;
    },
  };

  const jumpTo = (t: number): void => {
    if (mode === 'seconds' && power) totals.idleJoules += idleJoules(power, t - now);
    now = t;
    if (mode === 'rounds') round = t;
  };

  const report = (): void => {
    opts.onProgress?.({ round, now, completed: table.count, waiting: policy.waitingCount, running: policy.runningCount });
    if (opts.signal?.aborted) {
      const e = new Error('simulation cancelled');
      e.name = 'AbortError';
      throw e;
    }
  };

  let adaptive = opts.adaptive;
  if (adaptive && mode !== 'rounds') throw new Error('adaptive arrivals need rounds mode');
  const starts = new Map<number, number>();
  const seen = new Set<number>();
  let lastPolled = -1;

  for (;;) {
    while (pending !== undefined && pending.arrival <= now) {
      policy.enqueue(new LiveRequest(pending, memory));
      pull();
    }
    if (adaptive && lastPolled !== round) {
      lastPolled = round;
      const released = adaptive.poll({ round, now, starts, completed: table.count });
      if (released === null) adaptive = undefined;
      else {
        for (const q of released) {
          if (q.arrival !== now) throw new Error(`adaptive request ${q.id} must arrive now (${now}), not at ${q.arrival}`);
          if (seen.has(q.id)) throw new Error(`adaptive request id ${q.id} used twice`);
          checkRequest(q, memory);
          seen.add(q.id);
          totals.requests++;
          policy.enqueue(new LiveRequest(q, memory));
        }
      }
    }
    if (policy.waitingCount === 0 && policy.runningCount === 0) {
      if (adaptive) {
        jumpTo(now + 1); // an active adversary observes every round, even idle ones
        continue;
      }
      if (pending === undefined) break;
      jumpTo(pending.arrival);
      continue;
    }
    // `admitted` and `evicted` accumulate until a round executes: evictions made by a
    // schedule() call that ran nothing (then retried) belong to the next executed round.
    const batch = policy.schedule(ctx);
    if (batch.length === 0) {
      // A policy may return an empty batch after preempting everything (vLLM): the
      // state changed, so ask once more at the same time before waiting for arrivals.
      if (evicted > 0 && !retried) {
        retried = true;
        continue;
      }
      retried = false;
      if (adaptive) {
        jumpTo(now + 1);
        continue;
      }
      if (pending !== undefined) {
        jumpTo(pending.arrival);
        continue;
      }
      const why = policy.blockedReason?.() ?? 'the policy admits nothing into an empty system';
      throw new StuckError(`policy ${policy.spec} is stuck at time ${now} with ${policy.waitingCount} waiting requests and no arrivals left: ${why}`);
    }
    retried = false;

    // Batch statistics for the cost model.
    let prefillRequests = 0;
    let prefillTokens = 0;
    let prefillSquares = 0;
    let decodeContext = 0;
    for (const r of batch) {
      if (r.prefillPending) {
        const p = r.prompt + r.generated;
        prefillRequests++;
        prefillTokens += p;
        prefillSquares += p * p;
      } else {
        decodeContext += r.kvInRound;
      }
    }
    if (cost && !Number.isSafeInteger(prefillSquares)) throw squaresError(batch, round);
    const stats: BatchStats = {
      requests: batch.length,
      prefillRequests,
      prefillTokens,
      prefillSquares,
      decodeRequests: batch.length - prefillRequests,
      decodeContext,
    };
    const costMicros = cost ? cost.roundMicros(stats) : 0;
    const duration = mode === 'rounds' ? 1 : costMicros;
    if (!(Number.isSafeInteger(duration) && duration >= 1)) {
      throw new Error(`cost model ${cost?.name} returned ${duration} µs for a round; whole microseconds ≥ 1 are required`);
    }
    const kv = policy.kvHeld(batch);
    const end = checkTime(now + duration, `round ${round}`);
    const roundJoules = power && cost ? joulesOfRound(power, costMicros) : 0;
    const batchTokens = prefillTokens + stats.decodeRequests;

    const completedBefore = table.count;
    for (const r of batch) {
      const tokens = r.prefillPending ? r.prompt + r.generated : 1;
      if (roundJoules > 0) r.joules += requestEnergyShare(roundJoules, tokens, batchTokens);
      r.prefillPending = false;
      r.generated++;
      if (r.firstToken < 0) r.firstToken = end;
      if (r.generated === r.output) {
        r.phase = DONE;
        r.completion = end;
        policy.onComplete(r);
        table.add({
          id: r.id, arrival: r.arrival, prompt: r.prompt, output: r.output, predicted: r.predicted,
          start: r.start, firstToken: r.firstToken, completion: end, restarts: r.restarts, joules: r.joules,
        });
      }
    }

    if (table.count === completedBefore) {
      roundsSinceCompletion++;
      evictionsSinceCompletion += evicted;
      // Past the watchdog, with no arrival left to change the course, look for a
      // repeated state: the system is then deterministic and finite, so a repeat is a
      // proof of a cycle that never completes anything.
      if (roundsSinceCompletion > watchdog && evictionsSinceCompletion > 0 && pending === undefined && !adaptive && policy.stateKey) {
        const key = policy.stateKey();
        if (statesSeen.has(key)) {
          throw new LivelockError(
            `policy ${policy.spec} livelocked at time ${now}: the same state repeats (cycle of ${roundsSinceCompletion - (statesSeen.get(key) as number)} rounds) and no request completed in ${roundsSinceCompletion} rounds, while ${evictionsSinceCompletion} evictions restarted requests (${policy.runningCount} running, ${policy.waitingCount} waiting)`,
          );
        }
        statesSeen.set(key, roundsSinceCompletion);
      }
    } else {
      roundsSinceCompletion = 0;
      evictionsSinceCompletion = 0;
      if (statesSeen.size > 0) statesSeen.clear();
    }

    rounds?.add({
      round, start: now, duration, batch: batch.length, prefillTokens, decodeRequests: stats.decodeRequests,
      kv, admitted, evicted, waiting: policy.waitingCount,
    });
    admitted = 0;
    evicted = 0;
    totals.rounds++;
    totals.busy += duration;
    totals.tokensGenerated += batch.length;
    totals.kvTime += kv * duration;
    totals.activeJoules += roundJoules;
    if (kv > totals.peakKv) totals.peakKv = kv;
    now = end;
    round++;
    if (totals.rounds % progressEvery === 0) report();
  }
  totals.end = now;
  report();
  return {
    policy: policy.spec, memory, mode, costModel: cost?.name ?? null, requests: table, rounds, totals,
  };
}
