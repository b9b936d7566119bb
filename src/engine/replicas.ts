/**
 * Replicas behind a router on the CPU engine (docs/model.md, replicas and routers): K
 * copies of one policy, each its own `simulation`, run in lockstep by time; every arrival
 * is routed when it arrives, as Vidur's global schedulers do
 * (vidur/scheduler/global_scheduler/*.py):
 *
 * - round-robin: the i-th request in arrival order (ties by id) goes to replica i mod K;
 * - random: a uniform replica per request, from the run's seed (Vidur draws from Python's
 *   global `random`: the same distribution, not the same draws);
 * - least-outstanding (Vidur's LOR): the replica with the fewest pending requests, ties to
 *   the lowest replica id; a replica's pending requests are those routed to it and not
 *   running: its waiting queue (including evicted, restarted requests) plus those routed
 *   to it that it has not taken in yet because a round is under way.
 *
 * Vidur orders same-time events batch end < global schedule < replica schedule, so a
 * request arriving at t sees every replica after its rounds ending at ≤ t and before it
 * schedules at t. The lockstep gives exactly that: before routing the arrivals at t, each
 * replica runs until its next round would start at ≥ t (`RequestFeed.horizon`). Requests
 * arriving at the same t are routed one after another, each counting the ones before it.
 */
import { deriveSeed, Rng } from '../workload/rng.ts';
import type { RequestSpec } from '../model/types.ts';
import {
  emptyTotals,
  simulation,
  type RequestFeed,
  type RunTotals,
  type SimulateOptions,
  type SimulationResult,
} from './engine.ts';
import type { Policy } from './policy.ts';
import { RequestTable, TokenGaps } from './results.ts';

export const ROUTERS = ['round-robin', 'random', 'least-outstanding'] as const;
export type RouterKind = (typeof ROUTERS)[number];

export interface ReplicaOptions {
  readonly replicas: number;
  readonly router: RouterKind;
  /** Seed of the random router's draws. */
  readonly seed: number;
}

export interface ReplicatedResult {
  /** All requests, all replicas: totals summed, except end and peak KV (max over replicas). */
  readonly overall: SimulationResult;
  /** Each replica's run. Its requests are numbered 0..n−1 in the order routed to it (dense
   *  tables per replica); `ids[k][i]` is the input id of replica k's request i. */
  readonly replicas: readonly SimulationResult[];
  readonly ids: readonly Int32Array[];
  /** The replica of each request, by id (−1: no request with that id). */
  readonly assignment: Int32Array;
}

/** One replica's requests: the router appends, the replica's run pulls. */
class Feed implements RequestFeed {
  horizon = -Infinity;
  closed = false;
  private queue: RequestSpec[] = [];
  private head = 0;
  /** Input id of each request routed here, by its id within the replica. */
  readonly ids: number[] = [];

  push(q: RequestSpec): void {
    this.queue.push({ ...q, id: this.ids.length });
    this.ids.push(q.id);
  }

  [Symbol.iterator](): Iterator<RequestSpec> {
    return {
      next: (): IteratorResult<RequestSpec> => {
        if (this.head === this.queue.length) return { done: true, value: undefined };
        const q = this.queue[this.head++] as RequestSpec;
        if (this.head > 4096 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        return { done: false, value: q };
      },
    };
  }
}

/** Picks a replica for each arrival; `pending(k)` is replica k's pending count (least-outstanding). */
export type Router = (pending: (k: number) => number) => number;

export function makeRouter(o: ReplicaOptions): Router {
  const k = o.replicas;
  if (o.router === 'round-robin') {
    let counter = 0;
    return () => counter++ % k;
  }
  if (o.router === 'random') {
    const rng = new Rng(deriveSeed(o.seed, 'router/random'));
    return () => rng.int(0, k - 1);
  }
  return (pending) => {
    let best = 0;
    let least = pending(0);
    for (let r = 1; r < k; r++) {
      const p = pending(r);
      if (p < least) {
        least = p;
        best = r;
      }
    }
    return best;
  };
}

/**
 * Routers whose choice for a request depends only on the requests routed before it, never
 * on the replicas' state: their assignment is a function of the trace (and the seed), so
 * the trace can be split before any replica runs (`splitRequests`; the GPU engine).
 */
export const STATELESS_ROUTERS = ['round-robin', 'random'] as const satisfies readonly RouterKind[];

export function isStatelessRouter(router: RouterKind): router is (typeof STATELESS_ROUTERS)[number] {
  return (STATELESS_ROUTERS as readonly RouterKind[]).includes(router);
}

function orderError(q: RequestSpec, lastId: number, lastArrival: number): Error {
  return new Error(
    `requests must come in arrival order (ties by id): request ${q.id} (arrival ${q.arrival}) after request ${lastId} (arrival ${lastArrival})`,
  );
}

/**
 * The router's loop, shared by the lockstep run and the split: validates the requests
 * (arrival order, sizes; messages name the input's ids), calls `beforeArrivals(t)` before
 * routing the arrivals at time t, routes each with `route(pending)` into its replica's
 * feed and returns the assignment by id.
 */
function routeAll(
  requests: Iterable<RequestSpec>,
  feeds: readonly Feed[],
  memory: number,
  route: Router,
  pending: (k: number) => number,
  beforeArrivals: (t: number) => void,
): Int32Array {
  const assignment: number[] = [];
  const it = requests[Symbol.iterator]();
  let next = it.next();
  let lastArrival = -Infinity;
  let lastId = -1;
  while (!next.done) {
    const t = next.value.arrival;
    beforeArrivals(t);
    while (!next.done && next.value.arrival === t) {
      const q = next.value;
      if (q.arrival < lastArrival || (q.arrival === lastArrival && q.id < lastId))
        throw orderError(q, lastId, lastArrival);
      // The replicas see their own ids: validate here so that messages name the input's.
      if (!(q.prompt >= 1 && q.output >= 1 && q.predicted >= 1) || !Number.isInteger(q.arrival) || q.arrival < 0) {
        throw new Error(`request ${q.id}: prompt, output and predicted must be ≥ 1 and arrival a non-negative integer`);
      }
      if (q.prompt + q.output > memory) {
        throw new RangeError(`request ${q.id}: peak KV s + o = ${q.prompt + q.output} exceeds M = ${memory}`);
      }
      lastArrival = q.arrival;
      lastId = q.id;
      const r = route(pending);
      (feeds[r] as Feed).push(q);
      while (assignment.length < q.id) assignment.push(-1);
      assignment[q.id] = r;
      next = it.next();
    }
    if (!next.done && next.value.arrival < t) throw orderError(next.value, lastId, lastArrival);
  }
  return Int32Array.from(assignment);
}

function checkReplicas(k: number): void {
  if (!Number.isSafeInteger(k) || k < 1) throw new RangeError(`replicas must be an integer ≥ 1, got ${k}`);
}

export function simulateReplicas(
  requests: Iterable<RequestSpec>,
  makePolicy: () => Policy,
  opts: SimulateOptions,
  ro: ReplicaOptions,
): ReplicatedResult {
  const k = ro.replicas;
  checkReplicas(k);
  if (opts.adaptive) throw new Error('adaptive arrivals cannot be routed to replicas');
  const feeds = Array.from({ length: k }, () => new Feed());
  const policies = Array.from({ length: k }, makePolicy);
  const { onProgress: _drop, ...rest } = opts; // per-replica progress would interleave
  const runs = feeds.map((feed, r) => simulation(feed, policies[r] as Policy, { ...rest, feed }));
  const results: (SimulationResult | undefined)[] = new Array<SimulationResult | undefined>(k);
  const enqueued = new Float64Array(k);
  const resume = (r: number): void => {
    if (results[r]) return;
    const s = (runs[r] as Generator<{ enqueued: number }, SimulationResult, void>).next();
    if (s.done) results[r] = s.value;
    else enqueued[r] = s.value.enqueued;
  };
  // Vidur's num_pending_requests: the waiting queue plus requests routed but not taken in.
  const pending = (r: number): number =>
    (policies[r] as Policy).waitingCount + (feeds[r] as Feed).ids.length - (enqueued[r] as number);
  const assignment = routeAll(requests, feeds, opts.memory, makeRouter(ro), pending, (t) => {
    for (let r = 0; r < k; r++) {
      (feeds[r] as Feed).horizon = t;
      resume(r);
    }
  });
  for (const f of feeds) {
    f.horizon = Infinity;
    f.closed = true;
  }
  for (let r = 0; r < k; r++) while (!results[r]) resume(r);
  const done = results as SimulationResult[];
  const ids = feeds.map((f) => Int32Array.from(f.ids));
  return { overall: mergeReplicas(done, ids), replicas: done, ids, assignment };
}

/** A stateless router's split of a trace: what each replica of `simulateReplicas` receives. */
export interface ReplicaSplit {
  /** Each replica's requests, numbered 0..n−1 in the order routed to it (as its run sees them). */
  readonly requests: readonly RequestSpec[][];
  /** `ids[k][i]`: the input id of replica k's request i. */
  readonly ids: readonly Int32Array[];
  /** The replica of each request, by id (−1: no request with that id). */
  readonly assignment: Int32Array;
}

/**
 * Splits a trace among K replicas as `simulateReplicas` routes it (the same loop and
 * router, so the same assignment, renumbering and input errors), for a stateless router;
 * a state-dependent one (least-outstanding) is an error. Running each part on its own and
 * merging with `mergeReplicas` gives `simulateReplicas`'s result.
 */
export function splitRequests(requests: Iterable<RequestSpec>, memory: number, ro: ReplicaOptions): ReplicaSplit {
  checkReplicas(ro.replicas);
  if (!isStatelessRouter(ro.router)) {
    throw new Error(`router ${ro.router} depends on the replicas' state: the trace cannot be split before running`);
  }
  const feeds = Array.from({ length: ro.replicas }, () => new Feed());
  const noState = (): number => {
    throw new Error('a stateless router asked for a replica state');
  };
  const assignment = routeAll(requests, feeds, memory, makeRouter(ro), noState, () => {});
  return { requests: feeds.map((f) => [...f]), ids: feeds.map((f) => Int32Array.from(f.ids)), assignment };
}

/**
 * The replicas' results as one run (ids[k]: replica k's input ids): requests under their
 * input ids, totals summed except end and peak KV (max), token gaps joined when every
 * replica recorded them (else none: TBT unknown, never a partial sample).
 */
export function mergeReplicas(rs: readonly SimulationResult[], ids: readonly Int32Array[]): SimulationResult {
  const first = rs[0] as SimulationResult;
  const table = new RequestTable();
  rs.forEach((r, k) => table.addAll(r.requests, ids[k]));
  const gaps = rs.map((r) => r.tokenGaps);
  const tokenGaps = gaps.every((g) => g) ? TokenGaps.join(gaps as TokenGaps[]) : null;
  const totals: RunTotals = emptyTotals();
  for (const r of rs) {
    const t = r.totals;
    totals.rounds += t.rounds;
    totals.end = Math.max(totals.end, t.end);
    totals.busy += t.busy;
    totals.tokensGenerated += t.tokensGenerated;
    totals.evictions += t.evictions;
    totals.peakKv = Math.max(totals.peakKv, t.peakKv);
    totals.kvTime += t.kvTime;
    totals.activeJoules += t.activeJoules;
    totals.idleJoules += t.idleJoules;
    totals.requests += t.requests;
  }
  return { ...first, requests: table, rounds: null, totals, tokenGaps };
}
