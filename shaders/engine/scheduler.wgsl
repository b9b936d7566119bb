// GPU-resident scheduler engine (issue 5): one workgroup per replica, many rounds per
// dispatch. Reproduces src/engine/engine.ts + src/policies/*.ts exactly (see the
// conventions there); the host side is src/gpu-engine/engine.ts. The buffer layout and
// the enums (KIND_*, STATUS_*, PHASE_*, SEC_*, P_*/S_*/R_*/Q_*/K_*/X_* offsets, struct Cfg)
// are declared in src/gpu-engine/layout.ts and generated into shaders/engine/layout.wgsl,
// which the loaders put before this file. All arithmetic is u32; times are u64 as (lo, hi).
//
// Slots: a replica's requests are stored in the policy's static order (MC-SF and
// mcsf-budget: (planned, arrival, id); others: (arrival, id)); `Q_ARR_SLOT` maps arrival
// rank -> slot.
//
// Chunked prefill (Sarathi, mcsf-budget): a batch member still prefilling processes
// R_CHUNK prompt tokens this round (0: the rest of its prefill) after R_PREFILLED tokens
// processed in earlier rounds; the round that ends its prefill produces its token.

// Threads per workgroup: 64 by default; the host lowers it on CPU adapters (SwiftShader),
// where every barrier costs in proportion to the threads. At most 64.
override W: u32 = 64u;

@group(0) @binding(0) var<storage, read> prm: array<u32>;
@group(0) @binding(1) var<storage, read> req: array<u32>;
@group(0) @binding(2) var<storage, read> knots: array<u32>;
@group(0) @binding(3) var<storage, read_write> rs: array<u32>;
@group(0) @binding(4) var<storage, read_write> st: array<u32>;
@group(0) @binding(5) var<storage, read_write> scr: array<u32>;
@group(0) @binding(6) var<uniform> cfg: Cfg;

var<workgroup> g: array<u32, S_STRIDE>;
var<workgroup> pw: array<u32, P_STRIDE>;
var<workgroup> acc: atomic<u32>;
var<workgroup> accMin: atomic<u32>;
var<workgroup> accOut: u32;
var<workgroup> accv: array<atomic<u32>, 8>;
var<workgroup> outv: array<u32, 8>;
var<workgroup> part: array<u32, 65>;
var<workgroup> part2: array<u32, 65>;
var<workgroup> bcast: array<u32, 8>;

var<private> lid: u32;
var<private> REP: u32;
var<private> OFF: u32;
var<private> N: u32;
var<private> SCR: u32;

// ---------------------------------------------------------------- small helpers

fn P(i: u32) -> u32 { return pw[i]; }
fn PU(i: u32) -> u32 { return workgroupUniformLoad(&pw[i]); }
fn qf(slot: u32, f: u32) -> u32 { return req[(OFF + slot) * Q_STRIDE + f]; }
fn sf(slot: u32, f: u32) -> u32 { return st[(OFF + slot) * R_STRIDE + f]; }
fn sset(slot: u32, f: u32, v: u32) { st[(OFF + slot) * R_STRIDE + f] = v; }
// scratch sections (SEC_*) of length N + 1 per replica
fn xi(sec: u32, i: u32) -> u32 { return SCR + sec * (N + 1u) + i; }
fn xg(sec: u32, i: u32) -> u32 { return scr[xi(sec, i)]; }
fn xs(sec: u32, i: u32, v: u32) { scr[xi(sec, i)] = v; }

fn U(i: u32) -> u32 { return workgroupUniformLoad(&g[i]); }

fn sync() {
  storageBarrier();
  workgroupBarrier();
}

fn wg_sum(v: u32) -> u32 {
  if (v != 0u) { atomicAdd(&acc, v); }
  workgroupBarrier();
  if (lid == 0u) {
    accOut = atomicLoad(&acc);
    atomicStore(&acc, 0u);
  }
  return workgroupUniformLoad(&accOut);
}

// Five sums with one barrier pair.
fn wg_sum5(a: u32, b: u32, c: u32, d: u32, e: u32) -> array<u32, 8> {
  if (a != 0u) { atomicAdd(&accv[0], a); }
  if (b != 0u) { atomicAdd(&accv[1], b); }
  if (c != 0u) { atomicAdd(&accv[2], c); }
  if (d != 0u) { atomicAdd(&accv[3], d); }
  if (e != 0u) { atomicAdd(&accv[4], e); }
  workgroupBarrier();
  if (lid == 0u) {
    for (var i = 0u; i < 5u; i++) {
      outv[i] = atomicLoad(&accv[i]);
      atomicStore(&accv[i], 0u);
    }
  }
  return workgroupUniformLoad(&outv);
}

fn wg_min(v: u32) -> u32 {
  atomicMin(&accMin, v);
  workgroupBarrier();
  if (lid == 0u) {
    accOut = atomicLoad(&accMin);
    atomicStore(&accMin, NONE);
  }
  return workgroupUniformLoad(&accOut);
}

// Exclusive scan of two per-thread values; totals in bcast[0], bcast[1].
fn wg_scan2(a: u32, b: u32) -> vec2<u32> {
  part[lid] = a;
  part2[lid] = b;
  workgroupBarrier();
  if (lid == 0u) {
    var sa = 0u;
    var sb = 0u;
    for (var i = 0u; i < W; i++) {
      let va = part[i];
      let vb = part2[i];
      part[i] = sa;
      part2[i] = sb;
      sa += va;
      sb += vb;
    }
    bcast[0] = sa;
    bcast[1] = sb;
  }
  workgroupBarrier();
  return vec2<u32>(part[lid], part2[lid]);
}

fn le64(alo: u32, ahi: u32, blo: u32, bhi: u32) -> bool {
  return ahi < bhi || (ahi == bhi && alo <= blo);
}

fn add64(lo: u32, hi: u32, dlo: u32, dhi: u32) -> vec2<u32> {
  let l = lo + dlo;
  let c = select(0u, 1u, l < lo);
  return vec2<u32>(l, hi + dhi + c);
}

fn mul32(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  let lo = (p00 & 0xffffu) | (mid << 16u);
  let hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
  return vec2<u32>(lo, hi);
}

// floor((a*b + c) / d), quotient < 2^32 (src/cost/piecewise.ts mulDivFloor).
fn mul_add_div_floor(a: u32, b: u32, c: u32, d: u32) -> u32 {
  let p = mul32(a, b);
  let n = add64(p.x, p.y, c, 0u);
  var rem = 0u;
  var q = 0u;
  for (var i = 63i; i >= 0i; i--) {
    var bit: u32;
    if (i >= 32i) { bit = (n.y >> u32(i - 32i)) & 1u; } else { bit = (n.x >> u32(i)) & 1u; }
    let carry = rem >> 31u;
    rem = (rem << 1u) | bit;
    if (carry == 1u || rem >= d) {
      rem = rem - d;
      if (i < 32i) { q = q | (1u << u32(i)); }
    }
  }
  return q;
}

// ---------------------------------------------------------------- cost model (a100.ts)
// knots: the K_* header (layout.wgsl), then each table's (x, y) pairs at its offset.

// Table whose knot count is at knots[count_at] and offset at knots[off_at], at x.
fn interp(count_at: u32, off_at: u32, x: u32) -> u32 {
  let n = knots[count_at];
  let o = knots[off_at];
  let x0 = knots[o];
  if (x < x0 || n == 1u) { return knots[o + 1u]; }
  var lo = 0u;
  var hi = n - 1u;
  while (lo < hi) {
    let mid = (lo + hi + 1u) >> 1u;
    if (knots[o + 2u * mid] <= x) { lo = mid; } else { hi = mid - 1u; }
  }
  let i = min(lo, n - 2u);
  let xa = knots[o + 2u * i];
  let ya = knots[o + 2u * i + 1u];
  let xb = knots[o + 2u * i + 2u];
  let yb = knots[o + 2u * i + 3u];
  return ya + mul_add_div_floor(yb - ya, x - xa, 0u, xb - xa);
}

fn rounded(a: u32, b: u32, d: u32, c: u32) -> u32 {
  return mul_add_div_floor(a, b, c + d / 2u, d);
}

fn round_micros(ptok: u32, psq: u32, dreq: u32, dctx: u32) -> u32 {
  let tokens = ptok + dreq;
  let layerNs = interp(K_LAYER_COUNT, K_LAYER_OFF, tokens);
  let embNs = interp(K_EMBEDDING_COUNT, K_EMBEDDING_OFF, tokens);
  let linear = rounded(layerNs, knots[K_LAYERS], knots[K_NS_PER_MICRO], embNs);
  let arNs = interp(K_ALL_REDUCE_COUNT, K_ALL_REDUCE_OFF, tokens * knots[K_ALL_REDUCE_BYTES_PER_TOKEN]);
  let allReduce = rounded(arNs, knots[K_ALL_REDUCES], knots[K_NS_PER_MICRO], 0u);
  let dec = rounded(dctx, knots[K_KV_BYTES_PER_TOKEN], knots[K_DECODE_BYTES_PER_MICRO], 0u);
  let pre = rounded(psq, knots[K_PREFILL_FLOP_PER_SQUARE], knots[K_PREFILL_FLOP_PER_MICRO], 0u);
  return max(1u, linear + allReduce + dec + pre + knots[K_ROUND_OVERHEAD]);
}

@compute @workgroup_size(1)
fn cost_probe(@builtin(global_invocation_id) gid: vec3<u32>) {
  // Test entry: one X_* row per invocation in the scratch buffer; X_MICROS is the output.
  let o = gid.x * X_STRIDE;
  if (gid.x >= cfg.count) { return; }
  scr[o + X_MICROS] = round_micros(scr[o + X_PREFILL_TOKENS], scr[o + X_PREFILL_SQUARES], scr[o + X_DECODE_REQUESTS], scr[o + X_DECODE_CONTEXT]);
}

// ---------------------------------------------------------------- engine pieces

fn admit_slot(slot: u32, nowlo: u32, nowhi: u32, rnd: u32) {
  sset(slot, R_PHASE, PHASE_RUNNING);
  sset(slot, R_START_LO, nowlo);
  sset(slot, R_START_HI, nowhi);
  sset(slot, R_START_ROUND, rnd);
}

fn kv_of(slot: u32) -> u32 { return qf(slot, Q_PROMPT) + sf(slot, R_GEN) + 1u; }

// Policies that keep their FCFS waiting queue as a deque (restarts go to the front) and
// account memory in 16-token blocks (kv held = allocated blocks x 16).
fn uses_blocks(kind: u32) -> bool { return kind == KIND_VLLM || kind == KIND_SARATHI || kind == KIND_ORCA; }
// Policies whose batch is an explicit list (SEC_BL), not every running request.
fn listed(kind: u32) -> bool { return uses_blocks(kind) || kind == KIND_MCSF_BUDGET; }

// Prefill tokens a request has left: prompt + kept tokens - those already prefilled.
fn prefill_rest(slot: u32) -> u32 { return qf(slot, Q_PROMPT) + sf(slot, R_GEN) - sf(slot, R_PREFILLED); }

// Its prefill tokens this round under the token budget with `used` tokens taken: min(rest,
// chunk - used), 0 once the budget is spent (decodes may take it past the budget).
fn budget_tokens(slot: u32, used: u32) -> u32 {
  let chunk = P(P_CHUNK);
  if (used >= chunk) { return 0u; }
  return min(prefill_rest(slot), chunk - used);
}

// Thread 0: enqueue every request whose arrival <= now.
fn enqueue0(kind: u32) {
  var p = g[S_PEND];
  let nlo = g[S_NOW_LO];
  let nhi = g[S_NOW_HI];
  loop {
    if (p >= N) { break; }
    let slot = qf(p, Q_ARR_SLOT);
    if (!le64(qf(slot, Q_ARRIVAL_LO), qf(slot, Q_ARRIVAL_HI), nlo, nhi)) { break; }
    if (uses_blocks(kind)) {
      let pos = (g[S_Q_HEAD] + g[S_Q_LEN]) % N;
      xs(SEC_DEQUE, pos, slot);
      g[S_Q_LEN] += 1u;
    }
    g[S_WAIT] += 1u;
    p++;
  }
  g[S_PEND] = p;
}

// Thread 0: jump to the next arrival (engine.ts jumpTo).
fn jump0() {
  let slot = qf(g[S_PEND], Q_ARR_SLOT);
  g[S_NOW_LO] = qf(slot, Q_ARRIVAL_LO);
  g[S_NOW_HI] = qf(slot, Q_ARRIVAL_HI);
  if (P(P_SECONDS) == 0u) { g[S_ROUND] = g[S_NOW_LO]; }
}

// Overflow rule (continuous.ts applyOverflow): evict newest start first (ties: larger id)
// until held <= tgt. Returns the new held.
fn overflow(held: u32, rnd: u32) -> u32 {
  let tgt = PU(P_TARGET);
  var mn = NONE;
  for (var i = lid; i < N; i += W) {
    if (sf(i, R_PHASE) == PHASE_RUNNING) { mn = min(mn, sf(i, R_START_ROUND)); }
  }
  var lo = wg_min(mn);
  var hi = rnd + 1u;
  while (hi - lo > 1u) {
    let mid = (lo + hi) >> 1u;
    var s = 0u;
    for (var i = lid; i < N; i += W) {
      if (sf(i, R_PHASE) == PHASE_RUNNING && sf(i, R_START_ROUND) >= mid) { s += kv_of(i); }
    }
    let tot = wg_sum(s);
    if (held - tot <= tgt) { lo = mid; } else { hi = mid; }
  }
  let x1 = lo;
  var s1 = 0u;
  for (var i = lid; i < N; i += W) {
    if (sf(i, R_PHASE) == PHASE_RUNNING && sf(i, R_START_ROUND) > x1) { s1 += kv_of(i); }
  }
  let S1 = wg_sum(s1);
  var ylo = 0u;
  var yhi = PU(P_N);
  while (yhi - ylo > 1u) {
    let mid = (ylo + yhi) >> 1u;
    var s = 0u;
    for (var i = lid; i < N; i += W) {
      if (sf(i, R_PHASE) == PHASE_RUNNING && sf(i, R_START_ROUND) == x1 && qf(i, Q_ID_RANK) >= mid) { s += kv_of(i); }
    }
    let tot = wg_sum(s);
    if (held - S1 - tot <= tgt) { ylo = mid; } else { yhi = mid; }
  }
  let y = ylo;
  var cnt = 0u;
  var kv = 0u;
  for (var i = lid; i < N; i += W) {
    if (sf(i, R_PHASE) == PHASE_RUNNING) {
      let sr = sf(i, R_START_ROUND);
      if (sr > x1 || (sr == x1 && qf(i, Q_ID_RANK) >= y)) {
        kv += kv_of(i);
        cnt += 1u;
        sset(i, R_PHASE, PHASE_WAITING);
        sset(i, R_RESTARTS, sf(i, R_RESTARTS) + 1u);
        sset(i, R_GEN, 0u);
        sset(i, R_PREFILL, 1u);
        sset(i, R_PREFILLED, 0u);
      }
    }
  }
  let ev = wg_sum(cnt);
  let evkv = wg_sum(kv);
  if (lid == 0u) {
    g[S_WAIT] += ev;
    g[S_RUN] -= ev;
    g[S_EVI] += ev;
    g[S_EVICTIONS] += ev;
  }
  sync();
  return held - evkv;
}

// α-greedy admission: FCFS prefix whose first-round tokens keep held <= limit.
fn admit_alpha(held: u32) {
  let limit = P(P_ADMIT);
  var cap = 0u;
  if (limit >= held) { cap = limit - held; }
  let G = workgroupUniformLoad(&g);
  let pend = G[S_PEND];
  let nowlo = G[S_NOW_LO];
  let nowhi = G[S_NOW_HI];
  let rnd = G[S_ROUND];
  let C = (pend + W - 1u) / W;
  let b = min(lid * C, pend);
  let e = min(b + C, pend);
  var loc = 0u;
  for (var i = b; i < e; i++) {
    if (sf(i, R_PHASE) == PHASE_WAITING) { loc += qf(i, Q_PROMPT) + 1u; }
  }
  var run = wg_scan2(loc, 0u).x;
  var cnt = 0u;
  for (var i = b; i < e; i++) {
    if (sf(i, R_PHASE) == PHASE_WAITING) {
      run += qf(i, Q_PROMPT) + 1u;
      if (run <= cap) {
        admit_slot(i, nowlo, nowhi, rnd);
        cnt += 1u;
      } else {
        break;
      }
    }
  }
  let adm = wg_sum(cnt);
  if (lid == 0u) {
    g[S_WAIT] -= adm;
    g[S_RUN] += adm;
    g[S_ADM] += adm;
  }
  sync();
}

fn end_of(slot: u32) -> u32 { return sf(slot, R_START_ROUND) + qf(slot, Q_PLANNED) - 1u; }

// Predicted tokens at checkpoint e of running ∪ candidates[0, k) (lookahead.ts feasible).
fn total_at(e: u32, t: u32, k: u32, rlLen: u32, kind: u32) -> u32 {
  var R: u32;
  if (e == t) {
    R = xg(SEC_RL_W, rlLen);
  } else {
    var lo = 0u;
    var hi = rlLen;
    while (lo < hi) {
      let mid = (lo + hi) >> 1u;
      if (end_of(xg(SEC_RL, mid)) >= e) { lo = mid + 1u; } else { hi = mid; }
    }
    R = xg(SEC_RL_W, lo) + lo * (e - t);
  }
  var C = 0u;
  if (kind == KIND_MCSF) {
    // candidates ascend in planned: those with end >= e are [f, k).
    let need = e - t + 1u;
    var lo = 0u;
    var hi = k;
    while (lo < hi) {
      let mid = (lo + hi) >> 1u;
      if (qf(xg(SEC_CL, mid), Q_PLANNED) >= need) { hi = mid; } else { lo = mid + 1u; }
    }
    C = (xg(SEC_CL_S, k) - xg(SEC_CL_S, lo)) + (k - lo) * (e - t);
  } else {
    for (var j = 0u; j < k; j++) {
      let c = xg(SEC_CL, j);
      if (t + qf(c, Q_PLANNED) - 1u >= e) { C += qf(c, Q_PROMPT) + 1u + (e - t); }
    }
  }
  return R + C;
}

fn feasible(k: u32, t: u32, rlLen: u32, kind: u32, M: u32) -> bool {
  var bad = 0u;
  let tot = rlLen + k;
  for (var i = lid; i < tot; i += W) {
    var e: u32;
    if (i < rlLen) {
      e = max(end_of(xg(SEC_RL, i)), t);
    } else {
      e = t + qf(xg(SEC_CL, i - rlLen), Q_PLANNED) - 1u;
    }
    if (total_at(e, t, k, rlLen, kind) > M) { bad = 1u; }
  }
  return wg_sum(bad) == 0u;
}

// The waiting requests (arrived by now) in slot order into SEC_CL, with prefix sums of
// s + 1 in SEC_CL_S; returns how many.
fn candidates(nowlo: u32, nowhi: u32) -> u32 {
  let C = (N + W - 1u) / W;
  let b = min(lid * C, N);
  let e = min(b + C, N);
  var c = 0u;
  var w = 0u;
  for (var i = b; i < e; i++) {
    if (sf(i, R_PHASE) == PHASE_WAITING && le64(qf(i, Q_ARRIVAL_LO), qf(i, Q_ARRIVAL_HI), nowlo, nowhi)) { c += 1u; w += qf(i, Q_PROMPT) + 1u; }
  }
  let pre = wg_scan2(c, w);
  var pos = pre.x;
  var pw = pre.y;
  for (var i = b; i < e; i++) {
    if (sf(i, R_PHASE) == PHASE_WAITING && le64(qf(i, Q_ARRIVAL_LO), qf(i, Q_ARRIVAL_HI), nowlo, nowhi)) {
      xs(SEC_CL, pos, i);
      xs(SEC_CL_S, pos, pw);
      pos += 1u;
      pw += qf(i, Q_PROMPT) + 1u;
    }
  }
  if (lid == 0u) {
    bcast[2] = bcast[0];
    xs(SEC_CL_S, bcast[0], bcast[1]);
  }
  sync();
  return workgroupUniformLoad(&bcast[2]);
}

// MC-SF / MC-FCFS admission (lookahead.ts).
fn admit_lookahead(kind: u32) {
  let M = P(P_M);
  let G = workgroupUniformLoad(&g);
  let t = G[S_ROUND];
  let nowlo = G[S_NOW_LO];
  let nowhi = G[S_NOW_HI];
  // 1. drop finished / evicted entries from the end-sorted running list; prefix sums of kv.
  let rl0 = G[S_RL_LEN];
  {
    let C = (rl0 + W - 1u) / W;
    let b = min(lid * C, rl0);
    let e = min(b + C, rl0);
    var c = 0u;
    var w = 0u;
    for (var i = b; i < e; i++) {
      let slot = xg(SEC_RL, i);
      if (sf(slot, R_PHASE) == PHASE_RUNNING) { c += 1u; w += kv_of(slot); }
    }
    let pre = wg_scan2(c, w);
    var pos = pre.x;
    var pw = pre.y;
    for (var i = b; i < e; i++) {
      let slot = xg(SEC_RL, i);
      if (sf(slot, R_PHASE) == PHASE_RUNNING) {
        xs(SEC_RL2, pos, slot);
        xs(SEC_RL_W, pos, pw);
        pos += 1u;
        pw += kv_of(slot);
      }
    }
    if (lid == 0u) {
      g[S_RL_LEN] = bcast[0];
      xs(SEC_RL_W, bcast[0], bcast[1]);
    }
  }
  sync();
  let G2 = workgroupUniformLoad(&g);
  let rlLen = G2[S_RL_LEN];
  for (var i = lid; i < rlLen; i += W) { xs(SEC_RL, i, xg(SEC_RL2, i)); }
  if (G2[S_WAIT] == 0u) { sync(); return; }
  // 2. candidate list: waiting requests in policy order, with prefix sums of s + 1.
  let Q = candidates(nowlo, nowhi);
  // 3. largest feasible prefix: galloping, then binary search (monotone).
  var good = 0u;
  var bad = 0u;
  var k = 1u;
  loop {
    if (k > Q) {
      k = Q;
      if (k == good) { break; }
    }
    if (feasible(k, t, rlLen, kind, M)) {
      good = k;
      if (k == Q) { break; }
      k = k * 2u;
    } else {
      bad = k;
      break;
    }
  }
  if (bad > 0u) {
    var lo = good;
    var hi = bad;
    while (hi - lo > 1u) {
      let mid = (lo + hi) >> 1u;
      if (feasible(mid, t, rlLen, kind, M)) { lo = mid; } else { hi = mid; }
    }
    good = lo;
  }
  if (good == 0u) { sync(); return; }
  // 4. admit candidates [0, good); sort them by end descending into SEC_DEQUE.
  for (var c = lid; c < good; c += W) {
    let slot = xg(SEC_CL, c);
    admit_slot(slot, nowlo, nowhi, t);
    var rank: u32;
    if (kind == KIND_MCSF) {
      rank = good - 1u - c;
    } else {
      let a = qf(slot, Q_PLANNED);
      rank = 0u;
      for (var j = 0u; j < good; j++) {
        let b = qf(xg(SEC_CL, j), Q_PLANNED);
        if (b > a || (b == a && j < c)) { rank += 1u; }
      }
    }
    xs(SEC_DEQUE, rank, slot);
  }
  if (lid == 0u) {
    g[S_WAIT] -= good;
    g[S_RUN] += good;
    g[S_ADM] += good;
  }
  sync();
  // 5. merge into the running list (descending end; ties: existing first).
  for (var i = lid; i < rlLen; i += W) {
    let slot = xg(SEC_RL, i);
    let E = end_of(slot);
    var lo = 0u;
    var hi = good;
    while (lo < hi) {
      let mid = (lo + hi) >> 1u;
      if (end_of(xg(SEC_DEQUE, mid)) > E) { lo = mid + 1u; } else { hi = mid; }
    }
    xs(SEC_RL2, i + lo, slot);
  }
  for (var a = lid; a < good; a += W) {
    let slot = xg(SEC_DEQUE, a);
    let A = end_of(slot);
    var lo = 0u;
    var hi = rlLen;
    while (lo < hi) {
      let mid = (lo + hi) >> 1u;
      if (end_of(xg(SEC_RL, mid)) >= A) { lo = mid + 1u; } else { hi = mid; }
    }
    xs(SEC_RL2, a + lo, slot);
  }
  sync();
  let total = rlLen + good;
  for (var i = lid; i < total; i += W) { xs(SEC_RL, i, xg(SEC_RL2, i)); }
  if (lid == 0u) { g[S_RL_LEN] = total; }
  sync();
}

// Continuous policies (continuous.ts schedule). Batch = every running request.
fn schedule_cont(kind: u32) {
  let M = PU(P_M);
  let rnd = U(S_ROUND);
  var kv = 0u;
  for (var i = lid; i < N; i += W) {
    if (sf(i, R_PHASE) == PHASE_RUNNING) { kv += kv_of(i); }
  }
  var held = wg_sum(kv);
  if (held > M) { held = overflow(held, rnd); }
  if (kind == KIND_MCSF || kind == KIND_MC_FCFS) {
    admit_lookahead(kind);
  } else {
    admit_alpha(held);
  }
  if (lid == 0u) { g[S_BLEN] = g[S_RUN]; }
  sync();
}

// vLLM (vllm.ts), serial in thread 0: at most maxBatch requests hold memory.
fn preempt0(slot: u32) {
  g[S_ALLOC] -= sf(slot, R_BLOCKS);
  sset(slot, R_BLOCKS, 0u);
  sset(slot, R_PHASE, PHASE_WAITING);
  sset(slot, R_RESTARTS, sf(slot, R_RESTARTS) + 1u);
  sset(slot, R_PREFILL, 1u);
  sset(slot, R_PREFILLED, 0u); // a restart prefills from scratch, chunked progress included
  g[S_Q_HEAD] = (g[S_Q_HEAD] + N - 1u) % N;
  xs(SEC_DEQUE, g[S_Q_HEAD], slot);
  g[S_Q_LEN] += 1u;
  g[S_WAIT] += 1u;
  g[S_EVI] += 1u;
  g[S_EVICTIONS] += 1u;
}

fn schedule_vllm0() {
  let numBlocks = P(P_BLOCKS);
  let watermark = P(P_WATERMARK);
  let maxTok = P(P_MAX_TOKENS);
  let maxBatch = P(P_MAX_BATCH);
  // drop completed
  var vl = 0u;
  let vr0 = g[S_VR_LEN];
  for (var i = 0u; i < vr0; i++) {
    let slot = xg(SEC_VR, i);
    if (sf(slot, R_PHASE) == PHASE_RUNNING) { xs(SEC_VR, vl, slot); vl += 1u; }
  }
  // admissions
  var admitted = 0u;
  var maxPrefill = 0u;
  loop {
    if (g[S_Q_LEN] == 0u) { break; }
    let slot = xg(SEC_DEQUE, g[S_Q_HEAD]);
    let size = qf(slot, Q_PROMPT) + sf(slot, R_GEN);
    let need = (size + 15u) / 16u;
    if (numBlocks < g[S_ALLOC] + need + watermark) { break; }
    let padded = (admitted + 1u) * max(maxPrefill, size);
    if (padded > maxTok) { break; }
    if (vl == maxBatch) { break; }
    if (admitted == maxBatch) { break; }
    g[S_Q_HEAD] = (g[S_Q_HEAD] + 1u) % N;
    g[S_Q_LEN] -= 1u;
    g[S_ALLOC] += need;
    sset(slot, R_BLOCKS, need);
    maxPrefill = max(maxPrefill, size);
    admit_slot(slot, g[S_NOW_LO], g[S_NOW_HI], g[S_ROUND]);
    xs(SEC_BL, admitted, slot);
    admitted += 1u;
    xs(SEC_VR, vl, slot);
    vl += 1u;
    g[S_WAIT] -= 1u;
  }
  if (admitted > 0u) {
    g[S_ADM] = admitted;
    g[S_BLEN] = admitted;
    g[S_VR_LEN] = vl;
    g[S_RUN] = vl;
    return;
  }
  // decode: running by arrival (slot order), insertion sort
  for (var i = 1u; i < vl; i++) {
    let x = xg(SEC_VR, i);
    var j = i;
    loop {
      if (j == 0u) { break; }
      let y = xg(SEC_VR, j - 1u);
      if (y <= x) { break; }
      xs(SEC_VR, j, y);
      j -= 1u;
    }
    xs(SEC_VR, j, x);
  }
  var lo = 0u;
  var hi = vl;
  var blen = 0u;
  while (lo < hi) {
    if (blen == maxBatch) { break; }
    let r = xg(SEC_VR, lo);
    lo += 1u;
    var scheduled = true;
    while (numBlocks <= g[S_ALLOC]) {
      if (lo < hi) {
        hi -= 1u;
        preempt0(xg(SEC_VR, hi));
      } else {
        preempt0(r);
        scheduled = false;
        break;
      }
    }
    if (!scheduled) { continue; }
    let blocks = sf(r, R_BLOCKS);
    if (qf(r, Q_PROMPT) + sf(r, R_GEN) > blocks * 16u) {
      sset(r, R_BLOCKS, blocks + 1u);
      g[S_ALLOC] += 1u;
    }
    xs(SEC_BL, blen, r);
    blen += 1u;
  }
  for (var i = 0u; i < blen; i++) { xs(SEC_VR, i, xg(SEC_BL, i)); }
  for (var i = lo; i < hi; i++) { xs(SEC_VR, blen + i - lo, xg(SEC_VR, i)); }
  g[S_VR_LEN] = blen + hi - lo;
  g[S_RUN] = blen + hi - lo;
  g[S_BLEN] = blen;
}

// Sarathi-Serve (sarathi.ts), serial in thread 0. SEC_VR is Vidur's _preempted_requests
// (the requests holding blocks that were not in the last batch), SEC_BL the last batch.
fn schedule_sarathi0() {
  let numBlocks = P(P_BLOCKS);
  let watermark = P(P_WATERMARK);
  let maxBatch = P(P_MAX_BATCH);
  // on_batch_end: unfinished members of the last batch join the list, in batch order.
  var hl = g[S_VR_LEN];
  let last = g[S_BLEN];
  for (var i = 0u; i < last; i++) {
    let slot = xg(SEC_BL, i);
    if (sf(slot, R_PHASE) == PHASE_RUNNING) { xs(SEC_VR, hl, slot); hl += 1u; }
  }
  // 1. decodes in list order (prefills set aside in SEC_RL), at least one free block each.
  var blen = 0u;
  var used = 0u;
  var np = 0u;
  var lo = 0u;
  var hi = hl;
  while (lo < hi) {
    if (blen == maxBatch) { break; }
    let r = xg(SEC_VR, lo);
    lo += 1u;
    if (sf(r, R_PREFILL) == 1u) {
      xs(SEC_RL, np, r);
      np += 1u;
      continue;
    }
    var scheduled = true;
    while (numBlocks <= g[S_ALLOC]) {
      if (lo < hi) {
        hi -= 1u;
        preempt0(xg(SEC_VR, hi));
      } else {
        preempt0(r);
        scheduled = false;
        break;
      }
    }
    if (!scheduled) { continue; }
    let blocks = sf(r, R_BLOCKS);
    if (qf(r, Q_PROMPT) + sf(r, R_GEN) > blocks * 16u) {
      sset(r, R_BLOCKS, blocks + 1u);
      g[S_ALLOC] += 1u;
    }
    used += 1u;
    xs(SEC_BL, blen, r);
    blen += 1u;
  }
  // 2. the set-aside prefills take chunks of what the budget leaves; skipped ones into SEC_CL.
  var ns = 0u;
  for (var i = 0u; i < np; i++) {
    let r = xg(SEC_RL, i);
    let n = budget_tokens(r, used);
    if (n == 0u) {
      xs(SEC_CL, ns, r);
      ns += 1u;
      continue;
    }
    sset(r, R_CHUNK, n);
    used += n;
    xs(SEC_BL, blen, r);
    blen += 1u;
  }
  // The skipped prefills and the requests not reached stay, sorted by arrival (= slot).
  for (var i = lo; i < hi; i++) {
    xs(SEC_CL, ns, xg(SEC_VR, i));
    ns += 1u;
  }
  for (var i = 0u; i < ns; i++) {
    let x = xg(SEC_CL, i);
    var j = i;
    loop {
      if (j == 0u) { break; }
      let y = xg(SEC_VR, j - 1u);
      if (y <= x) { break; }
      xs(SEC_VR, j, y);
      j -= 1u;
    }
    xs(SEC_VR, j, x);
  }
  // 3. new requests from the head of the queue: the whole prefill's blocks above the watermark.
  var admitted = 0u;
  loop {
    if (g[S_Q_LEN] == 0u) { break; }
    let r = xg(SEC_DEQUE, g[S_Q_HEAD]);
    if (ns + blen == maxBatch) { break; }
    if (blen == maxBatch) { break; }
    let need = (qf(r, Q_PROMPT) + sf(r, R_GEN) + 15u) / 16u;
    if (numBlocks < g[S_ALLOC] + need + watermark) { break; }
    let n = budget_tokens(r, used);
    if (n == 0u) { break; }
    g[S_Q_HEAD] = (g[S_Q_HEAD] + 1u) % N;
    g[S_Q_LEN] -= 1u;
    g[S_ALLOC] += need;
    sset(r, R_BLOCKS, need);
    admit_slot(r, g[S_NOW_LO], g[S_NOW_HI], g[S_ROUND]);
    sset(r, R_CHUNK, n);
    used += n;
    xs(SEC_BL, blen, r);
    blen += 1u;
    admitted += 1u;
  }
  g[S_WAIT] -= admitted;
  g[S_ADM] = admitted;
  g[S_VR_LEN] = ns;
  g[S_BLEN] = blen;
  g[S_RUN] = ns + blen;
}

// Orca (orca.ts), serial in thread 0: an admitted request reserves P_PER_SEQ blocks for
// its whole life; a batch holds at most P_MAX_BATCH; nothing is preempted.
fn schedule_orca0() {
  let cap = P(P_MAX_BATCH);
  let numBlocks = P(P_BLOCKS);
  let perSeq = P(P_PER_SEQ);
  // Vidur's list: the left-overs (SEC_VR), then the last batch's unfinished members.
  var len = 0u;
  let vl = g[S_VR_LEN];
  for (var i = 0u; i < vl; i++) {
    xs(SEC_RL, len, xg(SEC_VR, i));
    len += 1u;
  }
  let last = g[S_BLEN];
  for (var i = 0u; i < last; i++) {
    let slot = xg(SEC_BL, i);
    if (sf(slot, R_PHASE) == PHASE_RUNNING) { xs(SEC_RL, len, slot); len += 1u; }
  }
  var blen = 0u;
  var rest = 0u;
  for (var i = 0u; i < len; i++) {
    let slot = xg(SEC_RL, i);
    if (blen < cap) {
      xs(SEC_BL, blen, slot);
      blen += 1u;
    } else {
      xs(SEC_VR, rest, slot);
      rest += 1u;
    }
  }
  var admitted = 0u;
  loop {
    if (g[S_Q_LEN] == 0u || blen >= cap) { break; }
    if (numBlocks - g[S_ALLOC] < perSeq) { break; }
    let r = xg(SEC_DEQUE, g[S_Q_HEAD]);
    g[S_Q_HEAD] = (g[S_Q_HEAD] + 1u) % N;
    g[S_Q_LEN] -= 1u;
    g[S_ALLOC] += perSeq;
    sset(r, R_BLOCKS, perSeq);
    admit_slot(r, g[S_NOW_LO], g[S_NOW_HI], g[S_ROUND]);
    xs(SEC_BL, blen, r);
    blen += 1u;
    admitted += 1u;
  }
  g[S_WAIT] -= admitted;
  g[S_ADM] = admitted;
  g[S_VR_LEN] = rest;
  g[S_BLEN] = blen;
  g[S_RUN] = rest + blen;
}

// mcsf-budget feasibility (mcsf-budget.ts feasible): running requests (SEC_RL: predicted
// last round e, SEC_RL_W: w = s + g + 1) and candidates SEC_CL[0, k) (e = t + planned - 1,
// w = s + 1); at every end E the requests with e >= E hold sum (w + E - t), at most M.
fn feasible_budget(k: u32, t: u32, nr: u32, M: u32) -> bool {
  var bad = 0u;
  let tot = nr + k;
  for (var i = lid; i < tot; i += W) {
    var E: u32;
    if (i < nr) { E = xg(SEC_RL, i); } else { E = t + qf(xg(SEC_CL, i - nr), Q_PLANNED) - 1u; }
    let d = E - t;
    var sum = 0u;
    for (var j = 0u; j < nr; j++) {
      if (xg(SEC_RL, j) >= E) { sum += xg(SEC_RL_W, j) + d; }
    }
    for (var j = 0u; j < k; j++) {
      let c = xg(SEC_CL, j);
      if (t + qf(c, Q_PLANNED) - 1u >= E) { sum += qf(c, Q_PROMPT) + 1u + d; }
    }
    if (sum > M) { bad = 1u; }
  }
  return wg_sum(bad) == 0u;
}

// mcsf-budget (mcsf-budget.ts). SEC_VR: the running requests in admission order. A running
// request's view after the outlive rule is max(planned, g + 1) (its decodes run every round),
// so its predicted last round is t + max(planned - g - 1, 0).
fn schedule_budget(rnd: u32) {
  let M = PU(P_M);
  let chunk = PU(P_CHUNK);
  var kv = 0u;
  for (var i = lid; i < N; i += W) {
    if (sf(i, R_PHASE) == PHASE_RUNNING) { kv += kv_of(i); }
  }
  var held = wg_sum(kv);
  if (held > M) { held = overflow(held, rnd); }
  // Thread 0: drop finished and evicted entries; the batch is the decodes, then the
  // prefills in admission order with what the budget leaves.
  if (lid == 0u) {
    var vl = 0u;
    let vr0 = g[S_VR_LEN];
    for (var i = 0u; i < vr0; i++) {
      let slot = xg(SEC_VR, i);
      if (sf(slot, R_PHASE) == PHASE_RUNNING) { xs(SEC_VR, vl, slot); vl += 1u; }
    }
    g[S_VR_LEN] = vl;
    var blen = 0u;
    var used = 0u;
    for (var i = 0u; i < vl; i++) {
      let slot = xg(SEC_VR, i);
      if (sf(slot, R_PREFILL) == 0u) {
        xs(SEC_BL, blen, slot);
        blen += 1u;
        used += 1u;
      }
    }
    for (var i = 0u; i < vl; i++) {
      let slot = xg(SEC_VR, i);
      if (sf(slot, R_PREFILL) == 1u) {
        let n = budget_tokens(slot, used);
        if (n > 0u) {
          sset(slot, R_CHUNK, n);
          used += n;
          xs(SEC_BL, blen, slot);
          blen += 1u;
        }
      }
    }
    g[S_BLEN] = blen;
    bcast[3] = used;
  }
  sync();
  var used = workgroupUniformLoad(&bcast[3]);
  let G = workgroupUniformLoad(&g);
  if (used < chunk && G[S_WAIT] > 0u) {
    let Q = candidates(G[S_NOW_LO], G[S_NOW_HI]);
    // The head must fit beside the held tokens now (implied by the test; a cheap early out).
    if (lid == 0u) { bcast[4] = select(0u, 1u, Q > 0u && held + xg(SEC_CL_S, 1u) <= M); }
    let nr = G[S_VR_LEN];
    if (workgroupUniformLoad(&bcast[4]) == 1u) {
      for (var i = lid; i < nr; i += W) {
        let s = xg(SEC_VR, i);
        let gen = sf(s, R_GEN);
        let pl = qf(s, Q_PLANNED);
        var e = rnd;
        if (pl > gen + 1u) { e = rnd + pl - gen - 1u; }
        xs(SEC_RL, i, e);
        xs(SEC_RL_W, i, kv_of(s));
      }
      sync();
      // The total at the head's own end, E = t + planned - 1: above M, the head (and so
      // the round's admission) is infeasible without the full test — the usual round
      // when the queue is long (mcsf-budget.ts computes the same before sorting).
      let head = xg(SEC_CL, 0u);
      let hE = rnd + qf(head, Q_PLANNED) - 1u;
      var atHead = 0u;
      if (lid == 0u) { atHead = qf(head, Q_PROMPT) + 1u + (hE - rnd); }
      for (var i = lid; i < nr; i += W) {
        if (xg(SEC_RL, i) >= hE) { atHead += xg(SEC_RL_W, i) + (hE - rnd); }
      }
      let headFits = wg_sum(atHead) <= M;
      var k = 0u;
      loop {
        if (!headFits) { break; }
        if (used >= chunk || k >= Q) { break; }
        if (!feasible_budget(k + 1u, rnd, nr, M)) { break; }
        if (lid == 0u) {
          let r = xg(SEC_CL, k);
          admit_slot(r, G[S_NOW_LO], G[S_NOW_HI], rnd);
          let n = min(qf(r, Q_PROMPT), chunk - bcast[3]);
          sset(r, R_CHUNK, n);
          bcast[3] += n;
          xs(SEC_BL, g[S_BLEN], r);
          g[S_BLEN] += 1u;
          xs(SEC_VR, g[S_VR_LEN], r);
          g[S_VR_LEN] += 1u;
          g[S_WAIT] -= 1u;
          g[S_ADM] += 1u;
        }
        used = workgroupUniformLoad(&bcast[3]);
        k += 1u;
      }
    }
  }
  if (lid == 0u) { g[S_RUN] = g[S_VR_LEN]; }
  sync();
}

// member i of the batch (continuous: slots in PHASE_RUNNING; listed kinds: the batch list).
fn member(i: u32, list: bool) -> u32 {
  if (list) { return xg(SEC_BL, i); }
  if (sf(i, R_PHASE) == PHASE_RUNNING) { return i; }
  return NONE;
}

// Run the batch (engine.ts): stats, duration, token accounting, completions, watchdog.
fn execute(kind: u32) {
  let list = listed(kind);
  var lim = N;
  if (list) { lim = U(S_BLEN); }
  var pf = 0u;
  var ptok = 0u;
  var psq = 0u;
  var dctx = 0u;
  var kv = 0u;
  for (var i = lid; i < lim; i += W) {
    let slot = member(i, list);
    if (slot == NONE) { continue; }
    let k = kv_of(slot);
    kv += k;
    if (sf(slot, R_PREFILL) == 1u) {
      // A chunk of c tokens after p prefilled costs (p + c)^2 - p^2 causal squares.
      let p = sf(slot, R_PREFILLED);
      var c = sf(slot, R_CHUNK);
      if (c == 0u) { c = prefill_rest(slot); }
      pf += 1u;
      ptok += c;
      psq += (p + c) * (p + c) - p * p;
    } else {
      dctx += k;
    }
  }
  if (kind == KIND_MCSF_BUDGET) {
    // mcsf-budget holds the KV of every running request, in the batch or waiting for budget.
    kv = 0u;
    let vl = U(S_VR_LEN);
    for (var i = lid; i < vl; i += W) { kv += kv_of(xg(SEC_VR, i)); }
  }
  let red = wg_sum5(pf, ptok, psq, dctx, kv);
  let PF = red[0];
  let PT = red[1];
  let PS = red[2];
  let DC = red[3];
  let KVm = red[4];
  if (lid == 0u) {
    let blen = g[S_BLEN];
    var cost = 0u;
    if (P(P_COST) == 1u) { cost = round_micros(PT, PS, blen - PF, DC); }
    var dur = 1u;
    if (P(P_SECONDS) == 1u) { dur = cost; }
    let end = add64(g[S_NOW_LO], g[S_NOW_HI], dur, 0u);
    g[S_END_LO] = end.x;
    g[S_END_HI] = end.y;
    var kvh = KVm;
    if (uses_blocks(kind)) { kvh = g[S_ALLOC] * 16u; }
    g[S_PEAK_KV] = max(g[S_PEAK_KV], kvh);
    let kt = mul32(kvh, dur);
    let kt2 = add64(g[S_KV_TIME_LO], g[S_KV_TIME_HI], kt.x, kt.y);
    g[S_KV_TIME_LO] = kt2.x;
    g[S_KV_TIME_HI] = kt2.y;
    let bz = add64(g[S_BUSY_LO], g[S_BUSY_HI], dur, 0u);
    g[S_BUSY_LO] = bz.x;
    g[S_BUSY_HI] = bz.y;
    let cb = add64(g[S_COST_BUSY_LO], g[S_COST_BUSY_HI], cost, 0u);
    g[S_COST_BUSY_LO] = cb.x;
    g[S_COST_BUSY_HI] = cb.y;
  }
  let G = workgroupUniformLoad(&g);
  let endlo = G[S_END_LO];
  let endhi = G[S_END_HI];
  var done = 0u;
  var freed = 0u;
  var produced = 0u;
  for (var i = lid; i < lim; i += W) {
    let slot = member(i, list);
    if (slot == NONE) { continue; }
    if (sf(slot, R_PREFILL) == 1u) {
      // A chunk that leaves part of the prefill for later rounds produces no token.
      let p = sf(slot, R_PREFILLED);
      var c = sf(slot, R_CHUNK);
      sset(slot, R_CHUNK, 0u);
      if (c != 0u && p + c < qf(slot, Q_PROMPT) + sf(slot, R_GEN)) {
        sset(slot, R_PREFILLED, p + c);
        continue;
      }
      sset(slot, R_PREFILLED, 0u);
    }
    produced += 1u;
    sset(slot, R_PREFILL, 0u);
    let gen = sf(slot, R_GEN) + 1u;
    sset(slot, R_GEN, gen);
    if (sf(slot, R_FIRST_TOKEN_HI) == NONE) {
      sset(slot, R_FIRST_TOKEN_LO, endlo);
      sset(slot, R_FIRST_TOKEN_HI, endhi);
    }
    if (gen == qf(slot, Q_OUTPUT)) {
      sset(slot, R_PHASE, PHASE_DONE);
      sset(slot, R_COMPLETION_LO, endlo);
      sset(slot, R_COMPLETION_HI, endhi);
      done += 1u;
      freed += sf(slot, R_BLOCKS);
      sset(slot, R_BLOCKS, 0u);
    }
  }
  let red2 = wg_sum5(done, freed, produced, 0u, 0u);
  let D = red2[0];
  let F = red2[1];
  if (lid == 0u) {
    g[S_TOKENS] += red2[2];
    g[S_DONE] += D;
    g[S_RUN] -= D;
    g[S_ALLOC] -= F;
    if (D == 0u) {
      g[S_RSC] += 1u;
      g[S_ESC] += g[S_EVI];
      if (g[S_RSC] > P(P_WATCHDOG) && g[S_ESC] > 0u) { g[S_STATUS] = STATUS_LIVELOCK; }
    } else {
      g[S_RSC] = 0u;
      g[S_ESC] = 0u;
    }
    g[S_ROUNDS] += 1u;
    g[S_NOW_LO] = endlo;
    g[S_NOW_HI] = endhi;
    g[S_ROUND] += 1u;
  }
  sync();
}

@compute @workgroup_size(W)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let rep = wid.x + cfg.base;
  if (rep >= cfg.count) { return; }
  lid = li;
  REP = rep;
  OFF = prm[rep * P_STRIDE + P_OFF];
  N = prm[rep * P_STRIDE + P_N];
  SCR = prm[rep * P_STRIDE + P_SCR];
  for (var i = lid; i < S_STRIDE; i += W) { g[i] = rs[rep * S_STRIDE + i]; }
  for (var i = lid; i < P_STRIDE; i += W) { pw[i] = prm[rep * P_STRIDE + i]; }
  if (lid == 0u) {
    atomicStore(&acc, 0u);
    atomicStore(&accMin, NONE);
  }
  workgroupBarrier();
  let kind = PU(P_KIND);
  for (var step = 0u; step < cfg.steps; step++) {
    if (lid == 0u && g[S_STATUS] == STATUS_RUNNING) {
      g[S_STEPS] += 1u;
      enqueue0(kind);
    }
    let G = workgroupUniformLoad(&g);
    if (G[S_STATUS] != STATUS_RUNNING) { break; }
    if (G[S_WAIT] == 0u && G[S_RUN] == 0u) {
      if (lid == 0u) {
        if (g[S_PEND] >= N) { g[S_STATUS] = STATUS_DONE; } else { jump0(); }
      }
      workgroupBarrier();
      continue;
    }
    if (lid == 0u) {
      g[S_ADM] = 0u;
      g[S_EVI] = 0u;
    }
    sync();
    if (uses_blocks(kind)) {
      if (lid == 0u) {
        if (kind == KIND_VLLM) {
          schedule_vllm0();
        } else if (kind == KIND_SARATHI) {
          schedule_sarathi0();
        } else {
          schedule_orca0();
        }
      }
      sync();
    } else if (kind == KIND_MCSF_BUDGET) {
      schedule_budget(U(S_ROUND));
    } else {
      schedule_cont(kind);
    }
    let blen = U(S_BLEN);
    if (blen == 0u) {
      if (lid == 0u) {
        if (g[S_EVI] > 0u && g[S_RETRIED] == 0u) {
          g[S_RETRIED] = 1u;
        } else {
          g[S_RETRIED] = 0u;
          if (g[S_PEND] < N) { jump0(); } else { g[S_STATUS] = STATUS_STUCK; }
        }
      }
      workgroupBarrier();
      continue;
    }
    if (lid == 0u) { g[S_RETRIED] = 0u; }
    execute(kind);
  }
  workgroupBarrier();
  for (var i = lid; i < S_STRIDE; i += W) { rs[rep * S_STRIDE + i] = g[i]; }
}
