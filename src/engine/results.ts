/**
 * Columnar, growable result tables. A million requests or rounds cost a few typed
 * arrays, not a million objects, so memory stays bounded by the live requests plus
 * the output itself.
 */
class Column<A extends Float64Array | Int32Array> {
  data: A;
  constructor(private readonly make: (n: number) => A) {
    this.data = make(1024);
  }
  set(i: number, v: number): void {
    if (i >= this.data.length) {
      let n = this.data.length * 2;
      while (n <= i) n *= 2;
      const next = this.make(n);
      next.set(this.data);
      this.data = next;
    }
    this.data[i] = v;
  }
  view(n: number): A {
    return this.data.subarray(0, n) as A;
  }
}
const f64 = (n: number) => new Float64Array(n);
const i32 = (n: number) => new Int32Array(n);

/** One finished request (times in the run's unit: rounds, or µs in seconds mode). */
export interface RequestResult {
  id: number;
  arrival: number;
  prompt: number;
  output: number;
  predicted: number;
  /** Start of the final (re)start. completion − start = output for the paper's policies. */
  start: number;
  /** End of the round that produced the request's first token (first attempt). */
  firstToken: number;
  completion: number;
  restarts: number;
  /** Energy attributed to the request (J), 0 without a power model. */
  joules: number;
  /** Largest gap between two consecutive delivered output tokens (0 when o = 1); absent
   *  (NaN in the table) when the engine does not track token times (the GPU engine). */
  maxGap?: number;
}

const REQUEST_FIELDS = [
  'arrival',
  'prompt',
  'output',
  'predicted',
  'start',
  'firstToken',
  'completion',
  'restarts',
  'joules',
  'maxGap',
] as const;
type RequestField = (typeof REQUEST_FIELDS)[number];

/** Requests by id (ids are dense 0..n−1: trace row or generation order). */
export class RequestTable {
  private readonly cols = {
    arrival: new Column(f64),
    prompt: new Column(i32),
    output: new Column(i32),
    predicted: new Column(i32),
    start: new Column(f64),
    firstToken: new Column(f64),
    completion: new Column(f64),
    restarts: new Column(i32),
    joules: new Column(f64),
    maxGap: new Column(f64),
  };
  private present = new Column(i32);
  /** One more than the largest id recorded. */
  length = 0;
  /** Number of requests recorded. */
  count = 0;

  add(r: RequestResult): void {
    const i = r.id;
    if (i < this.length && this.present.data[i] === 1) throw new Error(`request ${i} completed twice`);
    const c = this.cols;
    c.arrival.set(i, r.arrival);
    c.prompt.set(i, r.prompt);
    c.output.set(i, r.output);
    c.predicted.set(i, r.predicted);
    c.start.set(i, r.start);
    c.firstToken.set(i, r.firstToken);
    c.completion.set(i, r.completion);
    c.restarts.set(i, r.restarts);
    c.joules.set(i, r.joules);
    c.maxGap.set(i, r.maxGap ?? Number.NaN);
    this.present.set(i, 1);
    if (i + 1 > this.length) this.length = i + 1;
    this.count++;
  }

  has(id: number): boolean {
    return id < this.length && this.present.data[id] === 1;
  }

  /**
   * Adds every request of another table, column by column, under id `ids[id]` (default:
   * the same id); the ids must not overlap.
   */
  addAll(other: RequestTable, ids?: ArrayLike<number>): void {
    const p = other.present.data;
    for (let id = 0; id < other.length; id++) {
      if (p[id] !== 1) continue;
      const to = ids ? (ids[id] as number) : id;
      if (this.has(to)) throw new Error(`request ${to} completed twice`);
      for (const f of REQUEST_FIELDS) this.cols[f].set(to, other.cols[f].data[id] as number);
      this.present.set(to, 1);
      if (to + 1 > this.length) this.length = to + 1;
      this.count++;
    }
  }

  get(id: number): RequestResult {
    if (!this.has(id)) throw new Error(`no result for request ${id}`);
    const c = this.cols;
    return {
      id,
      arrival: c.arrival.data[id] as number,
      prompt: c.prompt.data[id] as number,
      output: c.output.data[id] as number,
      predicted: c.predicted.data[id] as number,
      start: c.start.data[id] as number,
      firstToken: c.firstToken.data[id] as number,
      completion: c.completion.data[id] as number,
      restarts: c.restarts.data[id] as number,
      joules: c.joules.data[id] as number,
      maxGap: c.maxGap.data[id] as number,
    };
  }

  /** Column views by id (valid until the next add). */
  column(f: RequestField): Float64Array | Int32Array {
    return this.cols[f].view(this.length);
  }

  *[Symbol.iterator](): IterableIterator<RequestResult> {
    for (let i = 0; i < this.length; i++) if (this.present.data[i] === 1) yield this.get(i);
  }
}

/**
 * Every gap between consecutive delivered output tokens of every request, in the order
 * produced (run's unit): ~8 bytes per output token, in Float64Array chunks never copied
 * while recording (growing one array by doubling copied and re-faulted ~2× the final
 * size: ~30 ms per 10k LMSYS run, measured). Several runs' gaps join without copying (replicas).
 */
export class TokenGaps {
  // Chunks grow from 4 Ki to 256 Ki gaps (32 KiB to 2 MiB): small runs stay small, long
  // ones allocate few chunks.
  private static readonly FIRST = 1 << 12;
  private static readonly LARGEST = 1 << 18;
  /** Finished chunks, each viewed at its used length. */
  private readonly parts: Float64Array[] = [];
  private chunk: Float64Array | null = new Float64Array(TokenGaps.FIRST);
  private used = 0;
  length = 0;

  add(gap: number): void {
    let c = this.chunk;
    if (c === null) throw new Error('TokenGaps: a joined or finished set is read-only');
    if (this.used === c.length) {
      this.parts.push(c);
      c = this.chunk = new Float64Array(Math.min(TokenGaps.LARGEST, c.length * 2));
      this.used = 0;
    }
    c[this.used++] = gap;
    this.length++;
  }

  /** Ends recording: the set becomes read-only (and joinable). */
  finish(): this {
    if (this.chunk !== null) {
      if (this.used > 0) this.parts.push(this.chunk.subarray(0, this.used));
      this.chunk = null;
    }
    return this;
  }

  /** The finished sets as one, sharing their chunks. */
  static join(sets: readonly TokenGaps[]): TokenGaps {
    const out = new TokenGaps().finish();
    for (const g of sets) {
      g.finish();
      out.parts.push(...g.parts);
      out.length += g.length;
    }
    return out;
  }

  /** Every gap recorded, copied into one array (callers sort it). */
  toArray(): Float64Array {
    const out = new Float64Array(this.length);
    let at = 0;
    for (const c of this.parts) {
      out.set(c, at);
      at += c.length;
    }
    if (this.chunk !== null) out.set(this.chunk.subarray(0, this.used), at);
    return out;
  }
}

/** One executed round. */
export interface RoundRecord {
  round: number;
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

const ROUND_FIELDS = [
  'round',
  'start',
  'duration',
  'batch',
  'prefillTokens',
  'decodeRequests',
  'kv',
  'admitted',
  'evicted',
  'waiting',
] as const;

export class RoundTable {
  private readonly cols = {
    round: new Column(f64),
    start: new Column(f64),
    duration: new Column(f64),
    batch: new Column(i32),
    prefillTokens: new Column(i32),
    decodeRequests: new Column(i32),
    kv: new Column(f64),
    admitted: new Column(i32),
    evicted: new Column(i32),
    waiting: new Column(i32),
  };
  length = 0;

  add(r: RoundRecord): void {
    const i = this.length++;
    const c = this.cols;
    c.round.set(i, r.round);
    c.start.set(i, r.start);
    c.duration.set(i, r.duration);
    c.batch.set(i, r.batch);
    c.prefillTokens.set(i, r.prefillTokens);
    c.decodeRequests.set(i, r.decodeRequests);
    c.kv.set(i, r.kv);
    c.admitted.set(i, r.admitted);
    c.evicted.set(i, r.evicted);
    c.waiting.set(i, r.waiting);
  }

  column(f: (typeof ROUND_FIELDS)[number]): Float64Array | Int32Array {
    return this.cols[f].view(this.length);
  }

  get(i: number): RoundRecord {
    const out = {} as Record<(typeof ROUND_FIELDS)[number], number>;
    for (const f of ROUND_FIELDS) out[f] = this.cols[f].data[i] as number;
    return out;
  }

  *[Symbol.iterator](): IterableIterator<RoundRecord> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}
