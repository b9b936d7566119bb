/**
 * Columnar, growable result tables. A million requests or rounds cost a few typed
 * arrays, not a million objects, so memory stays bounded by the live requests plus
 * the output itself.
 */
class Column<A extends Float64Array | Int32Array> {
  data: A;
  constructor(
    private readonly make: (n: number) => A,
    capacity = 1024,
  ) {
    this.data = make(capacity);
  }
  set(i: number, v: number): void {
    if (i >= this.data.length) this.ensure(i);
    this.data[i] = v;
  }
  /** Room for index i (doubling). */
  ensure(i: number): void {
    if (i < this.data.length) return;
    let n = this.data.length * 2;
    while (n <= i) n *= 2;
    const next = this.make(n);
    next.set(this.data);
    this.data = next;
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
  private readonly cols;
  private present;

  /** `capacity`: requests expected (ids 0..capacity−1), so the columns need not grow; they still do past it. */
  constructor(capacity = 1024) {
    const n = Math.max(16, Math.min(capacity, 1 << 24));
    this.cols = {
      arrival: new Column(f64, n),
      prompt: new Column(i32, n),
      output: new Column(i32, n),
      predicted: new Column(i32, n),
      start: new Column(f64, n),
      firstToken: new Column(f64, n),
      completion: new Column(f64, n),
      restarts: new Column(i32, n),
      joules: new Column(f64, n),
      maxGap: new Column(f64, n),
    };
    this.present = new Column(i32, n);
  }
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
 * produced (run's unit), as a multiset stored run-length encoded. Within a round every
 * request that also produced a token in the previous round records the same gap (that
 * round's duration), so a run of equal gaps is one entry: a 10k-request LMSYS run's
 * ~800k gaps fit in a few tens of thousands of entries, and percentiles sort those
 * entries instead of every gap (storing and sorting each gap took ~0.5 s of a 7-policy
 * `kvsched simulate`, measured). Several runs' gaps join (replicas).
 */
/** Count field of a packed (value, count) key in TokenGaps.packedSorted: 2^21 (values < 2^32). */
const PACK = 2 ** 21;

export class TokenGaps {
  private readonly values: number[] = [];
  private readonly counts: number[] = [];
  private frozen = false;
  /** Number of gaps recorded (the multiset's size, not the entries'). */
  length = 0;

  add(gap: number): void {
    if (this.frozen) throw new Error('TokenGaps: a joined or finished set is read-only');
    const last = this.values.length - 1;
    if (last >= 0 && this.values[last] === gap) this.counts[last] = (this.counts[last] as number) + 1;
    else {
      this.values.push(gap);
      this.counts.push(1);
    }
    this.length++;
  }

  /** Ends recording: the set becomes read-only (and joinable). */
  finish(): this {
    this.frozen = true;
    return this;
  }

  /** Run-length entries stored (memory is ~16 bytes each). */
  get entries(): number {
    return this.values.length;
  }

  /** The finished sets as one. */
  static join(sets: readonly TokenGaps[]): TokenGaps {
    const out = new TokenGaps();
    for (const g of sets) {
      g.finish();
      for (let i = 0; i < g.values.length; i++) {
        out.values.push(g.values[i] as number);
        out.counts.push(g.counts[i] as number);
      }
      out.length += g.length;
    }
    return out.finish();
  }

  /**
   * Nearest-rank percentiles (as `percentile` in metrics/summary.ts: the value at sorted
   * index ceil(p/100 · n) − 1) of the gaps, one per `ps`; NaN for an empty set.
   */
  percentiles(ps: readonly number[]): number[] {
    const n = this.length;
    if (n === 0) return ps.map(() => Number.NaN);
    const packed = this.packedSorted();
    if (packed !== null) {
      // Walk the sorted (value, count) pairs once, answering the ranks in increasing order.
      const ranks = ps.map((p, i) => ({ i, idx: Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1)) }));
      ranks.sort((x, y) => x.idx - y.idx);
      const out = new Array<number>(ps.length);
      let acc = 0;
      let k = 0;
      for (let j = 0; j < packed.length && k < ranks.length; j++) {
        const key = packed[j] as number;
        const value = Math.floor(key / PACK);
        acc += key - value * PACK;
        while (k < ranks.length && (ranks[k] as { idx: number }).idx < acc)
          out[(ranks[k++] as { i: number }).i] = value;
      }
      return out;
    }
    const merged = new Map<number, number>();
    for (let i = 0; i < this.values.length; i++) {
      const v = this.values[i] as number;
      merged.set(v, (merged.get(v) ?? 0) + (this.counts[i] as number));
    }
    const keys = Float64Array.from(merged.keys()).sort();
    const cum = new Float64Array(keys.length);
    let acc = 0;
    for (let i = 0; i < keys.length; i++) cum[i] = acc += merged.get(keys[i] as number) as number;
    return ps.map((p) => {
      const idx = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
      // First key whose cumulative count covers rank idx (binary search).
      let lo = 0;
      let hi = keys.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cum[mid] as number) > idx) hi = mid;
        else lo = mid + 1;
      }
      return keys[lo] as number;
    });
  }

  /**
   * The entries as value · PACK + count, sorted (a numeric typed-array sort, no comparator),
   * when every value is a whole number below 2^32 and every count below PACK — always, for
   * µs or round gaps of a run — else null (percentiles then merge through a Map). Exact:
   * the packed keys stay below 2^53.
   */
  private packedSorted(): Float64Array | null {
    const m = this.values.length;
    const keys = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const v = this.values[i] as number;
      const c = this.counts[i] as number;
      if (!(Number.isInteger(v) && v >= 0 && v < 2 ** 32 && c < PACK)) return null;
      keys[i] = v * PACK + c;
    }
    return keys.sort();
  }

  /** Every gap recorded, expanded in the order produced (tests; O(gaps) memory). */
  toArray(): Float64Array {
    const out = new Float64Array(this.length);
    let at = 0;
    for (let i = 0; i < this.values.length; i++) {
      const c = this.counts[i] as number;
      out.fill(this.values[i] as number, at, at + c);
      at += c;
    }
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

/**
 * A run's rounds as columns stored in fixed-size chunks (CHUNK rows): a row is added every
 * round, and a long run (Orca on 10k LMSYS requests: ~214k rounds) grew doubling arrays
 * by copying ~2× their final size per column, which cost more than the rows themselves
 * (measured). Chunks are never copied while recording; `column()` joins them on demand.
 */
/** The fields stored as Int32Array (the others as Float64Array). */
const ROUND_INT_FIELDS: ReadonlySet<string> = new Set([
  'batch',
  'prefillTokens',
  'decodeRequests',
  'admitted',
  'evicted',
  'waiting',
]);

export class RoundTable {
  private static readonly SHIFT = 10; // 1,024 rows: small runs stay small, long ones add ~56 KB per chunk
  private static readonly CHUNK = 1 << RoundTable.SHIFT;
  /** Finished chunks per field, then the current one (the last element). */
  private readonly chunks: Record<(typeof ROUND_FIELDS)[number], (Float64Array | Int32Array)[]> = {
    round: [],
    start: [],
    duration: [],
    batch: [],
    prefillTokens: [],
    decodeRequests: [],
    kv: [],
    admitted: [],
    evicted: [],
    waiting: [],
  };
  // The current chunk of every field, typed, so that add() stores without a lookup.
  private round = new Float64Array(0);
  private start = new Float64Array(0);
  private duration = new Float64Array(0);
  private batch = new Int32Array(0);
  private prefillTokens = new Int32Array(0);
  private decodeRequests = new Int32Array(0);
  private kv = new Float64Array(0);
  private admitted = new Int32Array(0);
  private evicted = new Int32Array(0);
  private waiting = new Int32Array(0);
  length = 0;

  private newChunk(): void {
    const n = RoundTable.CHUNK;
    const c = this.chunks;
    c.round.push((this.round = new Float64Array(n)));
    c.start.push((this.start = new Float64Array(n)));
    c.duration.push((this.duration = new Float64Array(n)));
    c.batch.push((this.batch = new Int32Array(n)));
    c.prefillTokens.push((this.prefillTokens = new Int32Array(n)));
    c.decodeRequests.push((this.decodeRequests = new Int32Array(n)));
    c.kv.push((this.kv = new Float64Array(n)));
    c.admitted.push((this.admitted = new Int32Array(n)));
    c.evicted.push((this.evicted = new Int32Array(n)));
    c.waiting.push((this.waiting = new Int32Array(n)));
  }

  add(r: RoundRecord): void {
    const o = this.length & (RoundTable.CHUNK - 1);
    if (o === 0) this.newChunk();
    this.round[o] = r.round;
    this.start[o] = r.start;
    this.duration[o] = r.duration;
    this.batch[o] = r.batch;
    this.prefillTokens[o] = r.prefillTokens;
    this.decodeRequests[o] = r.decodeRequests;
    this.kv[o] = r.kv;
    this.admitted[o] = r.admitted;
    this.evicted[o] = r.evicted;
    this.waiting[o] = r.waiting;
    this.length++;
  }

  /** One field over every round, as one array (copied from the chunks). */
  column(f: (typeof ROUND_FIELDS)[number]): Float64Array | Int32Array {
    const parts = this.chunks[f];
    const out = ROUND_INT_FIELDS.has(f) ? new Int32Array(this.length) : new Float64Array(this.length);
    let at = 0;
    for (const c of parts) {
      const k = Math.min(c.length, this.length - at);
      out.set(c.subarray(0, k), at);
      at += k;
    }
    return out;
  }

  get(i: number): RoundRecord {
    if (!(Number.isInteger(i) && i >= 0 && i < this.length)) throw new RangeError(`round row ${i} of ${this.length}`);
    const k = i >>> RoundTable.SHIFT;
    const o = i & (RoundTable.CHUNK - 1);
    const out = {} as Record<(typeof ROUND_FIELDS)[number], number>;
    for (const f of ROUND_FIELDS) out[f] = (this.chunks[f][k] as Float64Array | Int32Array)[o] as number;
    return out;
  }

  *[Symbol.iterator](): IterableIterator<RoundRecord> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}
