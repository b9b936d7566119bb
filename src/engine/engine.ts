import { checkRequest, checkTime } from '../model/limits.ts';
import type { BatchStats, CostModel, RequestSpec, TimeMode } from '../model/types.ts';
import { DONE, LiveRequest, RUNNING, WAITING } from './live.ts';
import type { Policy, RoundContext } from './policy.ts';
import { idleJoules, requestEnergyShare, roundJoules as joulesOfRound, type PowerModel } from '../cost/energy.ts';
import { RequestTable, RoundTable, TokenGaps } from './results.ts';
import { AbortError } from '../model/abort.ts';

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
  /** Record every gap between consecutive delivered tokens (default true; ~8 bytes per
   *  output token) for the TBT percentiles. Off: per-request max gaps only. Callers turn it
   *  off above `TOKEN_GAPS_MAX_REQUESTS` (see `recordTokenGaps`). */
  tokenGaps?: boolean;
  /** Requests the run is expected to record (a sizing hint for the result table: no regrowth). */
  expectedRequests?: number;
  /** Called every `progressEvery` rounds (default 4096) and at the end. */
  onProgress?: (p: Progress) => void;
  progressEvery?: number;
  /** Checked with the progress callback: aborts the run with an AbortError. */
  signal?: { readonly aborted: boolean };
  /** An adaptive source of arrivals (rounds mode only), e.g. the lower-bound adversary. */
  adaptive?: AdaptiveArrivals;
  /** An open request source that a router fills while the run goes on (`simulation` only). */
  feed?: RequestFeed;
}

/**
 * Requests routed to one replica (src/engine/replicas.ts). Its iterator may run dry and
 * later yield more; the run never starts a round at or after `horizon` (the next arrival
 * the router has not routed yet: it may be this replica's) and, while the feed is open,
 * waits instead of ending or reporting a stuck policy.
 */
export interface RequestFeed extends Iterable<RequestSpec> {
  readonly horizon: number;
  readonly closed: boolean;
}

/** Where a `simulation` paused: its clock and how many requests it has handed to the policy. */
export interface Pause {
  readonly now: number;
  readonly enqueued: number;
}

/**
 * Above this many requests the gaps are not recorded by default: ~85 output tokens per
 * LMSYS request × 8 bytes would be ~170 MB at 200,000 requests and grows without bound
 * with streamed runs. TBT percentiles are then unknown (the max stall is still exact).
 */
export const TOKEN_GAPS_MAX_REQUESTS = 200_000;

/** Whether a run of `requests` requests records every token gap by default. */
export function recordTokenGaps(requests: number): boolean {
  return requests <= TOKEN_GAPS_MAX_REQUESTS;
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
  /** Every inter-token gap (run's unit), or null/absent when not recorded. */
  tokenGaps?: TokenGaps | null;
}

/** Totals of a run that has not executed a round yet. */
export function emptyTotals(): RunTotals {
  return {
    rounds: 0,
    end: 0,
    busy: 0,
    tokensGenerated: 0,
    evictions: 0,
    peakKv: 0,
    kvTime: 0,
    activeJoules: 0,
    idleJoules: 0,
    requests: 0,
  };
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

/**
 * The CPU reference engine: simulates one instance under one policy and returns every
 * request's schedule and the per-round batch trace.
 *
 * Requests stream in arrival order (ties by id) and become eligible at the first round
 * whose start time is ≥ their arrival. A round runs the batch the policy returns: each
 * member produces one token; prefill members process prompt (+ kept tokens) first.
 * Rounds mode: a round lasts 1. Seconds mode: it lasts `costModel.roundMicros(batch)` µs.
 * With nothing to run, the engine jumps to the next arrival (an idle gap).
 *
 * The loop (`Simulation.advance`) is the whole algorithm; each step is a named helper further down
 * (request intake, adaptive arrivals, batch statistics, cost and energy, completion, the
 * livelock watchdog, totals). The GPU engine (shaders/engine/scheduler.wgsl) and the test
 * reference mirror these steps.
 */
export function simulate(requests: Iterable<RequestSpec>, policy: Policy, opts: SimulateOptions): SimulationResult {
  if (opts.feed) throw new Error('a feed needs simulation(), which can pause');
  const sim = new Simulation(requests, policy, opts);
  while (sim.advance() !== null); // without a feed it never pauses
  return sim.result();
}

/**
 * `simulate` as a generator: without a feed it never pauses; with one (replicas behind a
 * router) it pauses at the top of its loop whenever its clock reaches the feed's horizon,
 * and when it has nothing to do until the router sends more.
 */
export function* simulation(
  requests: Iterable<RequestSpec>,
  policy: Policy,
  opts: SimulateOptions,
): Generator<Pause, SimulationResult, void> {
  const sim = new Simulation(requests, policy, opts);
  for (;;) {
    const pause = sim.advance();
    if (pause === null) return sim.result();
    yield pause;
  }
}

/**
 * One run's loop. `advance` runs it until the run ends (null) or must wait for the feed (a
 * Pause); every pause is followed by the top of the loop, so calling `advance` again resumes
 * exactly where it stopped. The loop is a plain method rather than the generator's own body
 * because V8 runs it faster there: a whole default `kvsched simulate` process (7 policies ×
 * 10k requests, cold JIT) took ~7 % less wall and ~8 % less CPU time, medians of 7
 * interleaved runs (docs/cli.md, start-up).
 */
class Simulation {
  private readonly run: RunState;
  private readonly intake: RequestIntake;
  private readonly adaptive: AdaptiveIntake | undefined;
  private readonly watchdog: LivelockWatchdog;
  private readonly ctx: RoundContext;
  private readonly progressEvery: number;
  private finished = false;

  constructor(
    requests: Iterable<RequestSpec>,
    private readonly policy: Policy,
    private readonly opts: SimulateOptions,
  ) {
    const { memory, mode } = opts;
    if (!Number.isSafeInteger(memory) || memory < 2)
      throw new RangeError(`memory M must be an integer ≥ 2, got ${memory}`);
    if (mode === 'seconds' && opts.costModel === undefined) throw new Error('seconds mode needs a cost model');
    if (opts.adaptive && mode !== 'rounds') throw new Error('adaptive arrivals need rounds mode');
    this.progressEvery = opts.progressEvery ?? 4096;
    this.run = new RunState(opts);
    this.intake = new RequestIntake(requests, memory, this.run.totals);
    this.adaptive = opts.adaptive ? new AdaptiveIntake(opts.adaptive, memory, this.run) : undefined;
    this.watchdog = new LivelockWatchdog(memory, mode);
    this.ctx = roundContext(this.run, policy, memory, this.adaptive);
  }

  /** Runs until the run ends (null) or pauses for the feed. */
  advance(): Pause | null {
    const { run, intake, adaptive, watchdog, ctx, policy, opts, progressEvery } = this;
    const feed = opts.feed;
    if (this.finished) return null;
    for (;;) {
      if (feed) {
        intake.refill();
        if (run.now >= feed.horizon) return { now: run.now, enqueued: intake.enqueued };
      }
      intake.enqueueArrived(run.now, policy);
      adaptive?.poll(policy);
      const adaptiveActive = adaptive?.active === true;
      if (policy.waitingCount === 0 && policy.runningCount === 0) {
        if (adaptiveActive) {
          run.jumpTo(run.now + 1); // an active adversary observes every round, even idle ones
          continue;
        }
        if (intake.pending === undefined) {
          if (!this.open()) break;
          return { now: run.now, enqueued: intake.enqueued }; // idle until the router sends more
        }
        run.jumpTo(intake.pending.arrival);
        continue;
      }
      // `admitted` and `evicted` accumulate until a round executes: evictions made by a
      // schedule() call that ran nothing (then retried) belong to the next executed round.
      const batch = policy.schedule(ctx);
      if (batch.length === 0) {
        // A policy may return an empty batch after preempting everything (vLLM): the
        // state changed, so ask once more at the same time before waiting for arrivals.
        if (run.evicted > 0 && !run.retried) {
          run.retried = true;
          continue;
        }
        run.retried = false;
        if (adaptiveActive) {
          run.jumpTo(run.now + 1);
          continue;
        }
        if (intake.pending !== undefined) {
          run.jumpTo(intake.pending.arrival);
          continue;
        }
        if (this.open()) return { now: run.now, enqueued: intake.enqueued }; // blocked until the router sends more
        throw stuckError(policy, run.now, opts.mode);
      }
      run.retried = false;

      const canCycle = intake.pending === undefined && !adaptive?.active && !this.open();
      executeRound(batch, run, policy, opts, watchdog, canCycle);
      if (run.totals.rounds % progressEvery === 0) reportProgress(run, policy, opts);
    }
    run.totals.end = run.now;
    reportProgress(run, policy, opts);
    this.finished = true;
    return null;
  }

  /** A feed the router may still fill. */
  private open(): boolean {
    const feed = this.opts.feed;
    return feed !== undefined && !feed.closed;
  }

  result(): SimulationResult {
    const { run, opts } = this;
    return {
      policy: this.policy.spec,
      memory: opts.memory,
      mode: opts.mode,
      costModel: opts.costModel?.name ?? null,
      requests: run.table,
      rounds: run.rounds,
      totals: run.totals,
      tokenGaps: run.gaps?.finish() ?? null,
    };
  }
}

/**
 * Executes one round: its cost (µs, and the duration in the run's unit), completions and
 * tokens, the livelock watchdog, the timeline row and the totals; the clock moves to its end.
 */
function executeRound(
  batch: readonly LiveRequest[],
  run: RunState,
  policy: Policy,
  opts: SimulateOptions,
  watchdog: LivelockWatchdog,
  canCycle: boolean,
): void {
  const cost = opts.costModel;
  const stats = batchStats(batch);
  if (cost && !Number.isSafeInteger(stats.prefillSquares)) throw squaresError(batch, run.round);
  const { costMicros, duration } = roundDuration(stats, opts.mode, cost);
  const kv = policy.kvHeld(batch);
  const end = checkTime(run.now + duration, `round ${run.round}`);
  const roundJoules = opts.power && cost ? joulesOfRound(opts.power, costMicros) : 0;
  const completed = completeBatch(batch, end, roundJoules, stats.prefillTokens + stats.decodeRequests, policy, run);
  const produced = run.produced;
  watchdog.afterRound(completed > 0, run.evicted, canCycle, policy, run.now);
  run.rounds?.add({
    round: run.round,
    start: run.now,
    duration,
    batch: batch.length,
    prefillTokens: stats.prefillTokens,
    decodeRequests: stats.decodeRequests,
    kv,
    admitted: run.admitted,
    evicted: run.evicted,
    waiting: policy.waitingCount,
  });
  run.endRound(produced, duration, kv, roundJoules, end);
}

// ---------------------------------------------------------------------------------
// The steps of `simulate`.

/** The clock, the per-round counters and the outputs of one run. */
class RunState {
  round = 0;
  /** Start of the current round (rounds, or µs). */
  now = 0;
  /** Admission sequence numbers (`LiveRequest.seq`). */
  seq = 0;
  /** Admissions and evictions since the last executed round. */
  admitted = 0;
  evicted = 0;
  /** The last schedule() returned nothing after evictions and is asked once more. */
  retried = false;
  /** Tokens the last executed round produced (set by completeBatch). */
  produced = 0;
  readonly table: RequestTable;
  readonly rounds: RoundTable | null;
  readonly gaps: TokenGaps | null;
  readonly totals: RunTotals = emptyTotals();
  private readonly mode: TimeMode;
  private readonly power: PowerModel | undefined;

  constructor(opts: SimulateOptions) {
    this.mode = opts.mode;
    this.power = opts.power;
    this.table = new RequestTable(opts.expectedRequests);
    this.rounds = (opts.keepRounds ?? true) ? new RoundTable() : null;
    this.gaps = (opts.tokenGaps ?? true) ? new TokenGaps() : null;
  }

  /** An idle gap up to time t (idle energy in seconds mode; rounds mode's clock is the round). */
  jumpTo(t: number): void {
    if (this.mode === 'seconds' && this.power) this.totals.idleJoules += idleJoules(this.power, t - this.now);
    this.now = t;
    if (this.mode === 'rounds') this.round = t;
  }

  /** Totals of an executed round (`produced`: tokens it generated), then the clock moves to its end. */
  endRound(produced: number, duration: number, kv: number, roundJoules: number, end: number): void {
    const t = this.totals;
    this.admitted = 0;
    this.evicted = 0;
    t.rounds++;
    t.busy += duration;
    t.tokensGenerated += produced;
    t.kvTime += kv * duration;
    t.activeJoules += roundJoules;
    if (kv > t.peakKv) t.peakKv = kv;
    this.now = end;
    this.round++;
  }
}

/** What a policy sees and calls during schedule(): the clock, M, admit and evict. */
function roundContext(
  run: RunState,
  policy: Policy,
  memory: number,
  adaptive: AdaptiveIntake | undefined,
): RoundContext {
  return {
    get round() {
      return run.round;
    },
    get now() {
      return run.now;
    },
    memory,
    admit(r) {
      if (r.phase !== WAITING) throw new Error(`policy ${policy.spec} admitted request ${r.id} that is not waiting`);
      r.phase = RUNNING;
      r.start = run.now;
      r.startRound = run.round;
      r.seq = run.seq++;
      run.admitted++;
      adaptive?.started(r.id, run.round);
    },
    evict(r, keepGenerated) {
      if (r.phase !== RUNNING) throw new Error(`policy ${policy.spec} evicted request ${r.id} that is not running`);
      r.phase = WAITING;
      r.restarts++;
      if (!keepGenerated) r.generated = 0;
      r.prefillPending = true;
      r.prefilled = 0; // a restart re-prefills from scratch, chunked progress included
      r.chunk = 0;
      r.view = r.planned;
      run.evicted++;
      run.totals.evictions++;
    },
  };
}

/** Streams the requests in, validating order and sizes as each one is pulled. */
class RequestIntake {
  /** The next request not yet enqueued (undefined: none left). */
  pending: RequestSpec | undefined;
  /** Requests handed to the policy so far. */
  enqueued = 0;
  private readonly it: Iterator<RequestSpec>;
  private last: RequestSpec | undefined;

  constructor(
    requests: Iterable<RequestSpec>,
    private readonly memory: number,
    private readonly totals: RunTotals,
  ) {
    this.it = requests[Symbol.iterator]();
    this.pull();
  }

  /** Enqueues every request that has arrived by `now`. */
  enqueueArrived(now: number, policy: Policy): void {
    while (this.pending !== undefined && this.pending.arrival <= now) {
      policy.enqueue(new LiveRequest(this.pending, this.memory));
      this.enqueued++;
      this.pull();
    }
  }

  /** An open feed may have more now: pull again if nothing is pending. */
  refill(): void {
    if (this.pending === undefined) this.pull();
  }

  private pull(): void {
    const n = this.it.next();
    const p = n.done ? undefined : n.value;
    this.pending = p;
    if (p === undefined) return;
    checkRequest(p, this.memory, this.last);
    this.last = p;
    this.totals.requests++;
  }
}

/** An adaptive arrival source, asked once per round (before admissions) while active. */
class AdaptiveIntake {
  active = true;
  private readonly starts = new Map<number, number>();
  private readonly seen = new Set<number>();
  private lastPolled = -1;

  constructor(
    private readonly source: AdaptiveArrivals,
    private readonly memory: number,
    private readonly run: RunState,
  ) {}

  started(id: number, round: number): void {
    this.starts.set(id, round);
  }

  poll(policy: Policy): void {
    const run = this.run;
    if (!this.active || this.lastPolled === run.round) return;
    this.lastPolled = run.round;
    const released = this.source.poll({
      round: run.round,
      now: run.now,
      starts: this.starts,
      completed: run.table.count,
    });
    if (released === null) {
      this.active = false;
      return;
    }
    for (const q of released) {
      if (q.arrival !== run.now)
        throw new Error(`adaptive request ${q.id} must arrive now (${run.now}), not at ${q.arrival}`);
      if (this.seen.has(q.id)) throw new Error(`adaptive request id ${q.id} used twice`);
      checkRequest(q, this.memory);
      this.seen.add(q.id);
      run.totals.requests++;
      policy.enqueue(new LiveRequest(q, this.memory));
    }
  }
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
 * The cost model's view of a batch: prefill members process prompt + kept tokens, or a
 * chunk of them (`LiveRequest.chunk`). A chunk of c tokens after p already prefilled attends
 * causally within itself and fully to the p before it: (p + c)² − p² in units of the
 * causal square (p = 0, the whole prefill: c²).
 */
function batchStats(batch: readonly LiveRequest[]): BatchStats {
  let prefillRequests = 0;
  let prefillTokens = 0;
  let prefillSquares = 0;
  let decodeContext = 0;
  // Indexed loops in the per-round code: an array's for-of allocates an iterator result per
  // element until the code is optimized, which a cold `kvsched` process pays (docs/cli.md).
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i] as LiveRequest;
    if (r.prefillPending) {
      const c = r.prefillThisRound;
      const done = r.prefilled;
      if (!(Number.isSafeInteger(c) && c >= 1 && done + c <= r.prefillSize)) {
        throw new Error(`request ${r.id}: prefill chunk ${c} after ${done} of ${r.prefillSize} tokens is out of range`);
      }
      prefillRequests++;
      prefillTokens += c;
      prefillSquares += (done + c) * (done + c) - done * done;
    } else {
      decodeContext += r.kvInRound;
    }
  }
  return {
    requests: batch.length,
    prefillRequests,
    prefillTokens,
    prefillSquares,
    decodeRequests: batch.length - prefillRequests,
    decodeContext,
  };
}

/** A round's cost (µs, 0 without a cost model) and duration in the run's unit (rounds mode: 1). */
function roundDuration(
  stats: BatchStats,
  mode: TimeMode,
  cost: CostModel | undefined,
): { costMicros: number; duration: number } {
  const costMicros = cost ? cost.roundMicros(stats) : 0;
  const duration = mode === 'rounds' ? 1 : costMicros;
  if (!(Number.isSafeInteger(duration) && duration >= 1)) {
    throw new Error(
      `cost model ${cost?.name} returned ${duration} µs for a round; whole microseconds ≥ 1 are required`,
    );
  }
  return { costMicros, duration };
}

/**
 * Every batch member produces one token at `end` — except one whose prefill chunk leaves
 * part of its prefill for later rounds — and gets its share of the round's energy;
 * finished requests are recorded and handed back to the policy. Returns how many finished;
 * the tokens produced go to `run.produced` (no result object: this runs every round).
 */
function completeBatch(
  batch: readonly LiveRequest[],
  end: number,
  roundJoules: number,
  batchTokens: number,
  policy: Policy,
  run: RunState,
): number {
  const { table, gaps } = run;
  let completed = 0;
  let produced = 0;
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i] as LiveRequest;
    const tokens = r.prefillPending ? r.prefillThisRound : 1;
    if (roundJoules > 0) r.joules += requestEnergyShare(roundJoules, tokens, batchTokens);
    r.chunk = 0;
    if (r.prefillPending) {
      r.prefilled += tokens;
      if (r.prefilled < r.prefillSize) continue; // partly prefilled: no token yet
      r.prefilled = 0;
    }
    produced++;
    r.prefillPending = false;
    r.generated++;
    if (r.generated > r.delivered) deliverToken(r, end, gaps);
    if (r.firstToken < 0) r.firstToken = end;
    if (r.generated === r.output) {
      r.phase = DONE;
      r.completion = end;
      policy.onComplete(r);
      table.add(r); // a LiveRequest is a RequestResult (completion = end, set above)
      completed++;
    }
  }
  run.produced = produced;
  return completed;
}

/**
 * A new output token reaches the user at `end` (token-level metrics, model.md): the gap
 * since the request's previous delivered token is recorded. Tokens regenerated after an
 * eviction that lost them were delivered already and are not counted again.
 */
function deliverToken(r: LiveRequest, end: number, gaps: TokenGaps | null): void {
  if (r.lastToken >= 0) {
    const gap = end - r.lastToken;
    if (gap > r.maxGap) r.maxGap = gap;
    gaps?.add(gap);
  }
  r.delivered = r.generated;
  r.lastToken = end;
}

/**
 * Livelock detection (see LivelockError): counts rounds and evictions since the last
 * completion; past 4·M + 64 such rounds, with evictions among them and nothing left that
 * could change the course, a repeated policy state proves a cycle.
 */
class LivelockWatchdog {
  private roundsSinceCompletion = 0;
  private evictionsSinceCompletion = 0;
  private readonly limit: number;
  private readonly statesSeen = new Map<string, number>();

  constructor(
    memory: number,
    private readonly mode: TimeMode,
  ) {
    this.limit = 4 * memory + 64;
  }

  /** `canCycle`: no arrival (streamed or adaptive) is left to change the course. */
  afterRound(completedAny: boolean, evicted: number, canCycle: boolean, policy: Policy, now: number): void {
    if (completedAny) {
      this.roundsSinceCompletion = 0;
      this.evictionsSinceCompletion = 0;
      if (this.statesSeen.size > 0) this.statesSeen.clear();
      return;
    }
    this.roundsSinceCompletion++;
    this.evictionsSinceCompletion += evicted;
    if (
      this.roundsSinceCompletion <= this.limit ||
      this.evictionsSinceCompletion === 0 ||
      !canCycle ||
      !policy.stateKey
    )
      return;
    const key = policy.stateKey();
    const seenAt = this.statesSeen.get(key);
    if (seenAt !== undefined) {
      throw new LivelockError(
        `policy ${policy.spec} livelocked at time ${timeText(now, this.mode)}: the same state repeats (cycle of ${this.roundsSinceCompletion - seenAt} rounds) and no request completed in ${this.roundsSinceCompletion} rounds, while ${this.evictionsSinceCompletion} evictions restarted requests (${policy.runningCount} running, ${policy.waitingCount} waiting)`,
      );
    }
    this.statesSeen.set(key, this.roundsSinceCompletion);
  }
}

/** A time in the run's unit for messages: seconds mode counts µs internally. */
function timeText(t: number, mode: TimeMode): string {
  return mode === 'seconds' ? `${t / 1e6} s` : String(t);
}

function stuckError(policy: Policy, now: number, mode: TimeMode): StuckError {
  const why = policy.blockedReason?.() ?? 'the policy admits nothing into an empty system';
  return new StuckError(
    `policy ${policy.spec} is stuck at time ${timeText(now, mode)} with ${policy.waitingCount} waiting requests and no arrivals left: ${why}`,
  );
}

function reportProgress(run: RunState, policy: Policy, opts: SimulateOptions): void {
  opts.onProgress?.({
    round: run.round,
    now: run.now,
    completed: run.table.count,
    waiting: policy.waitingCount,
    running: policy.runningCount,
  });
  if (opts.signal?.aborted) throw new AbortError('simulation cancelled');
}
