// GPU-resident scheduler engine (issue 5): one workgroup per replica, many rounds per
// dispatch. Reproduces src/engine/engine.ts + src/policies/*.ts exactly (see the
// conventions there); the host side is src/gpu-engine/engine.ts, which documents the
// buffer layout. All arithmetic is u32; times are u64 as (lo, hi) pairs.
//
// Policies (param KIND): 0 MC-SF, 1 MC-FCFS, 2 alpha-greedy, 3 alpha-clearing, 4 vLLM.
// Slots: a replica's requests are stored in the policy's static order (MC-SF:
// (planned, arrival, id); others: (arrival, id)); `arr_slot` maps arrival rank -> slot.

// Threads per workgroup: 64 by default; the host lowers it on CPU adapters (SwiftShader),
// where every barrier costs in proportion to the threads. At most 64.
override W: u32 = 64u;
const NONE: u32 = 0xffffffffu;

// ---- replica parameters (read-only, stride 16) ----
const P_OFF: u32 = 0u;
const P_N: u32 = 1u;
const P_M: u32 = 2u;
const P_KIND: u32 = 3u;
const P_ADMIT: u32 = 4u;     // floor((1-alpha) M)
const P_TARGET: u32 = 5u;    // overflow tgt: M, or floor((1-beta) M)
const P_BLOCKS: u32 = 6u;    // vLLM: floor(M / 16)
const P_WATERMARK: u32 = 7u; // vLLM: floor(0.01 * blocks) as JS computes it
const P_MAXTOK: u32 = 8u;
const P_MAXBATCH: u32 = 9u;
const P_SECONDS: u32 = 10u;  // 1: seconds mode
const P_WATCHDOG: u32 = 11u; // 4 M + 64
const P_COST: u32 = 12u;     // 1: evaluate the cost model (seconds mode, or energy in rounds mode)
const P_SCR: u32 = 13u;      // scratch base (u32 index)
const P_STRIDE: u32 = 16u;

// ---- replica state (read-write, stride 32) ----
const S_STATUS: u32 = 0u;   // 0 running, 1 done, 2 stuck, 3 livelock, 4 internal error
const S_NOWLO: u32 = 1u;
const S_NOWHI: u32 = 2u;
const S_ROUND: u32 = 3u;
const S_PEND: u32 = 4u;     // requests enqueued (arrival rank)
const S_WAIT: u32 = 5u;
const S_RUN: u32 = 6u;
const S_DONE: u32 = 7u;
const S_RETRIED: u32 = 8u;
const S_RSC: u32 = 9u;      // rounds since completion
const S_ESC: u32 = 10u;     // evictions since completion
const S_ALLOC: u32 = 11u;   // vLLM allocated blocks
const S_QHEAD: u32 = 12u;   // vLLM deque
const S_QLEN: u32 = 13u;
const S_RLLEN: u32 = 14u;   // look-ahead: running list length
const S_VRLEN: u32 = 15u;   // vLLM running list length
const S_ROUNDS: u32 = 16u;
const S_EVICTIONS: u32 = 17u;
const S_PEAKKV: u32 = 18u;
const S_BUSYLO: u32 = 19u;
const S_BUSYHI: u32 = 20u;
const S_TOKENS: u32 = 21u;
const S_KVTLO: u32 = 22u;   // sum kv * duration (u64)
const S_KVTHI: u32 = 23u;
const S_CBUSYLO: u32 = 24u; // sum of cost-model micros (u64), for energy
const S_CBUSYHI: u32 = 25u;
const S_STEPS: u32 = 26u;   // loop iterations so far (progress)
// per-iteration scratch (not meaningful between dispatches)
const S_ADM: u32 = 27u;
const S_EVI: u32 = 28u;
const S_BLEN: u32 = 29u;
const S_ENDLO: u32 = 30u;
const S_ENDHI: u32 = 31u;
const S_STRIDE: u32 = 32u;

// ---- per-request state (read-write, stride 12) ----
const R_STATE: u32 = 0u;    // 0 waiting/not arrived, 1 running, 2 done
const R_GEN: u32 = 1u;
const R_RESTARTS: u32 = 2u;
const R_PREFILL: u32 = 3u;
const R_SR: u32 = 4u;       // start round
const R_BLOCKS: u32 = 5u;
const R_STLO: u32 = 6u;
const R_STHI: u32 = 7u;
const R_FTLO: u32 = 8u;
const R_FTHI: u32 = 9u;     // NONE until the first token
const R_CLO: u32 = 10u;
const R_CHI: u32 = 11u;
const R_STRIDE: u32 = 12u;

// ---- request inputs (read-only, stride 8) ----
const Q_ALO: u32 = 0u;
const Q_AHI: u32 = 1u;
const Q_S: u32 = 2u;
const Q_O: u32 = 3u;
const Q_PLAN: u32 = 4u;
const Q_IDR: u32 = 5u;      // rank of the id within the replica
const Q_ARRSLOT: u32 = 6u;  // at index (off + k): slot of the k-th arrival
const Q_STRIDE: u32 = 8u;

struct Cfg {
  steps: u32,
  base: u32,
  count: u32,
  pad: u32,
}

@group(0) @binding(0) var<storage, read> prm: array<u32>;
@group(0) @binding(1) var<storage, read> req: array<u32>;
@group(0) @binding(2) var<storage, read> knots: array<u32>;
@group(0) @binding(3) var<storage, read_write> rs: array<u32>;
@group(0) @binding(4) var<storage, read_write> st: array<u32>;
@group(0) @binding(5) var<storage, read_write> scr: array<u32>;
@group(0) @binding(6) var<uniform> cfg: Cfg;

var<workgroup> g: array<u32, 32>;
var<workgroup> pw: array<u32, 16>;
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
// scratch sections of length N + 1: 0 rl, 1 rl2, 2 rlW, 3 cl, 4 clS, 5 aL / vLLM deque, 6 vr, 7 bl
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
// knots header: [0..6) = (count, offset) of layer, embedding, all-reduce tables;
// [6..15) constants; pairs (x, y) at offset + 2 i.

fn interp(tab: u32, x: u32) -> u32 {
  let n = knots[2u * tab];
  let o = knots[2u * tab + 1u];
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
  let layerNs = interp(0u, tokens);
  let embNs = interp(1u, tokens);
  let linear = rounded(layerNs, knots[6], knots[7], embNs);
  let arNs = interp(2u, tokens * knots[8]);
  let allReduce = rounded(arNs, knots[9], knots[7], 0u);
  let dec = rounded(dctx, knots[10], knots[11], 0u);
  let pre = rounded(psq, knots[12], knots[13], 0u);
  return max(1u, linear + allReduce + dec + pre + knots[14]);
}

@compute @workgroup_size(1)
fn cost_probe(@builtin(global_invocation_id) gid: vec3<u32>) {
  // Test entry: scr[5 i .. 5 i + 4) = (ptok, psq, dreq, dctx) -> scr[5 i + 4] = micros.
  let i = gid.x;
  if (i >= cfg.count) { return; }
  scr[5u * i + 4u] = round_micros(scr[5u * i], scr[5u * i + 1u], scr[5u * i + 2u], scr[5u * i + 3u]);
}

// ---------------------------------------------------------------- engine pieces

fn admit_slot(slot: u32, nowlo: u32, nowhi: u32, rnd: u32) {
  sset(slot, R_STATE, 1u);
  sset(slot, R_STLO, nowlo);
  sset(slot, R_STHI, nowhi);
  sset(slot, R_SR, rnd);
}

fn kv_of(slot: u32) -> u32 { return qf(slot, Q_S) + sf(slot, R_GEN) + 1u; }

// Thread 0: enqueue every request whose arrival <= now.
fn enqueue0(kind: u32) {
  var p = g[S_PEND];
  let nlo = g[S_NOWLO];
  let nhi = g[S_NOWHI];
  loop {
    if (p >= N) { break; }
    let slot = qf(p, Q_ARRSLOT);
    if (!le64(qf(slot, Q_ALO), qf(slot, Q_AHI), nlo, nhi)) { break; }
    if (kind == 4u) {
      let pos = (g[S_QHEAD] + g[S_QLEN]) % N;
      xs(5u, pos, slot);
      g[S_QLEN] += 1u;
    }
    g[S_WAIT] += 1u;
    p++;
  }
  g[S_PEND] = p;
}

// Thread 0: jump to the next arrival (engine.ts jumpTo).
fn jump0() {
  let slot = qf(g[S_PEND], Q_ARRSLOT);
  g[S_NOWLO] = qf(slot, Q_ALO);
  g[S_NOWHI] = qf(slot, Q_AHI);
  if (P(P_SECONDS) == 0u) { g[S_ROUND] = g[S_NOWLO]; }
}

// Overflow rule (continuous.ts applyOverflow): evict newest start first (ties: larger id)
// until held <= tgt. Returns the new held.
fn overflow(held: u32, rnd: u32) -> u32 {
  let tgt = PU(P_TARGET);
  var mn = NONE;
  for (var i = lid; i < N; i += W) {
    if (sf(i, R_STATE) == 1u) { mn = min(mn, sf(i, R_SR)); }
  }
  var lo = wg_min(mn);
  var hi = rnd + 1u;
  while (hi - lo > 1u) {
    let mid = (lo + hi) >> 1u;
    var s = 0u;
    for (var i = lid; i < N; i += W) {
      if (sf(i, R_STATE) == 1u && sf(i, R_SR) >= mid) { s += kv_of(i); }
    }
    let tot = wg_sum(s);
    if (held - tot <= tgt) { lo = mid; } else { hi = mid; }
  }
  let x1 = lo;
  var s1 = 0u;
  for (var i = lid; i < N; i += W) {
    if (sf(i, R_STATE) == 1u && sf(i, R_SR) > x1) { s1 += kv_of(i); }
  }
  let S1 = wg_sum(s1);
  var ylo = 0u;
  var yhi = PU(P_N);
  while (yhi - ylo > 1u) {
    let mid = (ylo + yhi) >> 1u;
    var s = 0u;
    for (var i = lid; i < N; i += W) {
      if (sf(i, R_STATE) == 1u && sf(i, R_SR) == x1 && qf(i, Q_IDR) >= mid) { s += kv_of(i); }
    }
    let tot = wg_sum(s);
    if (held - S1 - tot <= tgt) { ylo = mid; } else { yhi = mid; }
  }
  let y = ylo;
  var cnt = 0u;
  var kv = 0u;
  for (var i = lid; i < N; i += W) {
    if (sf(i, R_STATE) == 1u) {
      let sr = sf(i, R_SR);
      if (sr > x1 || (sr == x1 && qf(i, Q_IDR) >= y)) {
        kv += kv_of(i);
        cnt += 1u;
        sset(i, R_STATE, 0u);
        sset(i, R_RESTARTS, sf(i, R_RESTARTS) + 1u);
        sset(i, R_GEN, 0u);
        sset(i, R_PREFILL, 1u);
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
  let nowlo = G[S_NOWLO];
  let nowhi = G[S_NOWHI];
  let rnd = G[S_ROUND];
  let C = (pend + W - 1u) / W;
  let b = min(lid * C, pend);
  let e = min(b + C, pend);
  var loc = 0u;
  for (var i = b; i < e; i++) {
    if (sf(i, R_STATE) == 0u) { loc += qf(i, Q_S) + 1u; }
  }
  var run = wg_scan2(loc, 0u).x;
  var cnt = 0u;
  for (var i = b; i < e; i++) {
    if (sf(i, R_STATE) == 0u) {
      run += qf(i, Q_S) + 1u;
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

fn end_of(slot: u32) -> u32 { return sf(slot, R_SR) + qf(slot, Q_PLAN) - 1u; }

// Predicted tokens at checkpoint e of running ∪ candidates[0, k) (lookahead.ts feasible).
fn total_at(e: u32, t: u32, k: u32, rlLen: u32, kind: u32) -> u32 {
  var R: u32;
  if (e == t) {
    R = xg(2u, rlLen);
  } else {
    var lo = 0u;
    var hi = rlLen;
    while (lo < hi) {
      let mid = (lo + hi) >> 1u;
      if (end_of(xg(0u, mid)) >= e) { lo = mid + 1u; } else { hi = mid; }
    }
    R = xg(2u, lo) + lo * (e - t);
  }
  var C = 0u;
  if (kind == 0u) {
    // candidates ascend in planned: those with end >= e are [f, k).
    let need = e - t + 1u;
    var lo = 0u;
    var hi = k;
    while (lo < hi) {
      let mid = (lo + hi) >> 1u;
      if (qf(xg(3u, mid), Q_PLAN) >= need) { hi = mid; } else { lo = mid + 1u; }
    }
    C = (xg(4u, k) - xg(4u, lo)) + (k - lo) * (e - t);
  } else {
    for (var j = 0u; j < k; j++) {
      let c = xg(3u, j);
      if (t + qf(c, Q_PLAN) - 1u >= e) { C += qf(c, Q_S) + 1u + (e - t); }
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
      e = max(end_of(xg(0u, i)), t);
    } else {
      e = t + qf(xg(3u, i - rlLen), Q_PLAN) - 1u;
    }
    if (total_at(e, t, k, rlLen, kind) > M) { bad = 1u; }
  }
  return wg_sum(bad) == 0u;
}

// MC-SF / MC-FCFS admission (lookahead.ts).
fn admit_lookahead(kind: u32) {
  let M = P(P_M);
  let G = workgroupUniformLoad(&g);
  let t = G[S_ROUND];
  let nowlo = G[S_NOWLO];
  let nowhi = G[S_NOWHI];
  // 1. drop finished / evicted entries from the end-sorted running list; prefix sums of kv.
  let rl0 = G[S_RLLEN];
  {
    let C = (rl0 + W - 1u) / W;
    let b = min(lid * C, rl0);
    let e = min(b + C, rl0);
    var c = 0u;
    var w = 0u;
    for (var i = b; i < e; i++) {
      let slot = xg(0u, i);
      if (sf(slot, R_STATE) == 1u) { c += 1u; w += kv_of(slot); }
    }
    let pre = wg_scan2(c, w);
    var pos = pre.x;
    var pw = pre.y;
    for (var i = b; i < e; i++) {
      let slot = xg(0u, i);
      if (sf(slot, R_STATE) == 1u) {
        xs(1u, pos, slot);
        xs(2u, pos, pw);
        pos += 1u;
        pw += kv_of(slot);
      }
    }
    if (lid == 0u) {
      g[S_RLLEN] = bcast[0];
      xs(2u, bcast[0], bcast[1]);
    }
  }
  sync();
  let G2 = workgroupUniformLoad(&g);
  let rlLen = G2[S_RLLEN];
  for (var i = lid; i < rlLen; i += W) { xs(0u, i, xg(1u, i)); }
  if (G2[S_WAIT] == 0u) { sync(); return; }
  // 2. candidate list: waiting requests in policy order, with prefix sums of s + 1.
  {
    let C = (N + W - 1u) / W;
    let b = min(lid * C, N);
    let e = min(b + C, N);
    var c = 0u;
    var w = 0u;
    for (var i = b; i < e; i++) {
      if (sf(i, R_STATE) == 0u && le64(qf(i, Q_ALO), qf(i, Q_AHI), nowlo, nowhi)) { c += 1u; w += qf(i, Q_S) + 1u; }
    }
    let pre = wg_scan2(c, w);
    var pos = pre.x;
    var pw = pre.y;
    for (var i = b; i < e; i++) {
      if (sf(i, R_STATE) == 0u && le64(qf(i, Q_ALO), qf(i, Q_AHI), nowlo, nowhi)) {
        xs(3u, pos, i);
        xs(4u, pos, pw);
        pos += 1u;
        pw += qf(i, Q_S) + 1u;
      }
    }
    if (lid == 0u) {
      bcast[2] = bcast[0];
      xs(4u, bcast[0], bcast[1]);
    }
  }
  sync();
  let Q = workgroupUniformLoad(&bcast[2]);
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
  // 4. admit candidates [0, good); sort them by end descending into aL.
  for (var c = lid; c < good; c += W) {
    let slot = xg(3u, c);
    admit_slot(slot, nowlo, nowhi, t);
    var rank: u32;
    if (kind == 0u) {
      rank = good - 1u - c;
    } else {
      let a = qf(slot, Q_PLAN);
      rank = 0u;
      for (var j = 0u; j < good; j++) {
        let b = qf(xg(3u, j), Q_PLAN);
        if (b > a || (b == a && j < c)) { rank += 1u; }
      }
    }
    xs(5u, rank, slot);
  }
  if (lid == 0u) {
    g[S_WAIT] -= good;
    g[S_RUN] += good;
    g[S_ADM] += good;
  }
  sync();
  // 5. merge into the running list (descending end; ties: existing first).
  for (var i = lid; i < rlLen; i += W) {
    let slot = xg(0u, i);
    let E = end_of(slot);
    var lo = 0u;
    var hi = good;
    while (lo < hi) {
      let mid = (lo + hi) >> 1u;
      if (end_of(xg(5u, mid)) > E) { lo = mid + 1u; } else { hi = mid; }
    }
    xs(1u, i + lo, slot);
  }
  for (var a = lid; a < good; a += W) {
    let slot = xg(5u, a);
    let A = end_of(slot);
    var lo = 0u;
    var hi = rlLen;
    while (lo < hi) {
      let mid = (lo + hi) >> 1u;
      if (end_of(xg(0u, mid)) >= A) { lo = mid + 1u; } else { hi = mid; }
    }
    xs(1u, a + lo, slot);
  }
  sync();
  let total = rlLen + good;
  for (var i = lid; i < total; i += W) { xs(0u, i, xg(1u, i)); }
  if (lid == 0u) { g[S_RLLEN] = total; }
  sync();
}

// Continuous policies (continuous.ts schedule). Batch = every running request.
fn schedule_cont(kind: u32) {
  let M = PU(P_M);
  let rnd = U(S_ROUND);
  var kv = 0u;
  for (var i = lid; i < N; i += W) {
    if (sf(i, R_STATE) == 1u) { kv += kv_of(i); }
  }
  var held = wg_sum(kv);
  if (held > M) { held = overflow(held, rnd); }
  if (kind <= 1u) {
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
  sset(slot, R_STATE, 0u);
  sset(slot, R_RESTARTS, sf(slot, R_RESTARTS) + 1u);
  sset(slot, R_PREFILL, 1u);
  g[S_QHEAD] = (g[S_QHEAD] + N - 1u) % N;
  xs(5u, g[S_QHEAD], slot);
  g[S_QLEN] += 1u;
  g[S_WAIT] += 1u;
  g[S_EVI] += 1u;
  g[S_EVICTIONS] += 1u;
}

fn schedule_vllm0() {
  let numBlocks = P(P_BLOCKS);
  let watermark = P(P_WATERMARK);
  let maxTok = P(P_MAXTOK);
  let maxBatch = P(P_MAXBATCH);
  // drop completed
  var vl = 0u;
  let vr0 = g[S_VRLEN];
  for (var i = 0u; i < vr0; i++) {
    let slot = xg(6u, i);
    if (sf(slot, R_STATE) == 1u) { xs(6u, vl, slot); vl += 1u; }
  }
  // admissions
  var admitted = 0u;
  var maxPrefill = 0u;
  loop {
    if (g[S_QLEN] == 0u) { break; }
    let slot = xg(5u, g[S_QHEAD]);
    let size = qf(slot, Q_S) + sf(slot, R_GEN);
    let need = (size + 15u) / 16u;
    if (numBlocks < g[S_ALLOC] + need + watermark) { break; }
    let padded = (admitted + 1u) * max(maxPrefill, size);
    if (padded > maxTok) { break; }
    if (vl == maxBatch) { break; }
    if (admitted == maxBatch) { break; }
    g[S_QHEAD] = (g[S_QHEAD] + 1u) % N;
    g[S_QLEN] -= 1u;
    g[S_ALLOC] += need;
    sset(slot, R_BLOCKS, need);
    maxPrefill = max(maxPrefill, size);
    admit_slot(slot, g[S_NOWLO], g[S_NOWHI], g[S_ROUND]);
    xs(7u, admitted, slot);
    admitted += 1u;
    xs(6u, vl, slot);
    vl += 1u;
    g[S_WAIT] -= 1u;
  }
  if (admitted > 0u) {
    g[S_ADM] = admitted;
    g[S_BLEN] = admitted;
    g[S_VRLEN] = vl;
    g[S_RUN] = vl;
    return;
  }
  // decode: running by arrival (slot order), insertion sort
  for (var i = 1u; i < vl; i++) {
    let x = xg(6u, i);
    var j = i;
    loop {
      if (j == 0u) { break; }
      let y = xg(6u, j - 1u);
      if (y <= x) { break; }
      xs(6u, j, y);
      j -= 1u;
    }
    xs(6u, j, x);
  }
  var lo = 0u;
  var hi = vl;
  var blen = 0u;
  while (lo < hi) {
    if (blen == maxBatch) { break; }
    let r = xg(6u, lo);
    lo += 1u;
    var scheduled = true;
    while (numBlocks <= g[S_ALLOC]) {
      if (lo < hi) {
        hi -= 1u;
        preempt0(xg(6u, hi));
      } else {
        preempt0(r);
        scheduled = false;
        break;
      }
    }
    if (!scheduled) { continue; }
    let blocks = sf(r, R_BLOCKS);
    if (qf(r, Q_S) + sf(r, R_GEN) > blocks * 16u) {
      sset(r, R_BLOCKS, blocks + 1u);
      g[S_ALLOC] += 1u;
    }
    xs(7u, blen, r);
    blen += 1u;
  }
  for (var i = 0u; i < blen; i++) { xs(6u, i, xg(7u, i)); }
  for (var i = lo; i < hi; i++) { xs(6u, blen + i - lo, xg(6u, i)); }
  g[S_VRLEN] = blen + hi - lo;
  g[S_RUN] = blen + hi - lo;
  g[S_BLEN] = blen;
}

// member i of the batch (continuous: slots with state 1; vLLM: the batch list).
fn member(i: u32, vllm: bool) -> u32 {
  if (vllm) { return xg(7u, i); }
  if (sf(i, R_STATE) == 1u) { return i; }
  return NONE;
}

// Run the batch (engine.ts): stats, duration, token accounting, completions, watchdog.
fn execute(vllm: bool) {
  var lim = N;
  if (vllm) { lim = U(S_BLEN); }
  var pf = 0u;
  var ptok = 0u;
  var psq = 0u;
  var dctx = 0u;
  var kv = 0u;
  for (var i = lid; i < lim; i += W) {
    let slot = member(i, vllm);
    if (slot == NONE) { continue; }
    let k = kv_of(slot);
    kv += k;
    if (sf(slot, R_PREFILL) == 1u) {
      let p = qf(slot, Q_S) + sf(slot, R_GEN);
      pf += 1u;
      ptok += p;
      psq += p * p;
    } else {
      dctx += k;
    }
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
    let end = add64(g[S_NOWLO], g[S_NOWHI], dur, 0u);
    g[S_ENDLO] = end.x;
    g[S_ENDHI] = end.y;
    var kvh = KVm;
    if (vllm) { kvh = g[S_ALLOC] * 16u; }
    g[S_PEAKKV] = max(g[S_PEAKKV], kvh);
    let kt = mul32(kvh, dur);
    let kt2 = add64(g[S_KVTLO], g[S_KVTHI], kt.x, kt.y);
    g[S_KVTLO] = kt2.x;
    g[S_KVTHI] = kt2.y;
    let bz = add64(g[S_BUSYLO], g[S_BUSYHI], dur, 0u);
    g[S_BUSYLO] = bz.x;
    g[S_BUSYHI] = bz.y;
    let cb = add64(g[S_CBUSYLO], g[S_CBUSYHI], cost, 0u);
    g[S_CBUSYLO] = cb.x;
    g[S_CBUSYHI] = cb.y;
    g[S_TOKENS] += blen;
  }
  let G = workgroupUniformLoad(&g);
  let endlo = G[S_ENDLO];
  let endhi = G[S_ENDHI];
  var done = 0u;
  var freed = 0u;
  for (var i = lid; i < lim; i += W) {
    let slot = member(i, vllm);
    if (slot == NONE) { continue; }
    sset(slot, R_PREFILL, 0u);
    let gen = sf(slot, R_GEN) + 1u;
    sset(slot, R_GEN, gen);
    if (sf(slot, R_FTHI) == NONE) {
      sset(slot, R_FTLO, endlo);
      sset(slot, R_FTHI, endhi);
    }
    if (gen == qf(slot, Q_O)) {
      sset(slot, R_STATE, 2u);
      sset(slot, R_CLO, endlo);
      sset(slot, R_CHI, endhi);
      done += 1u;
      freed += sf(slot, R_BLOCKS);
      sset(slot, R_BLOCKS, 0u);
    }
  }
  let red2 = wg_sum5(done, freed, 0u, 0u, 0u);
  let D = red2[0];
  let F = red2[1];
  if (lid == 0u) {
    g[S_DONE] += D;
    g[S_RUN] -= D;
    g[S_ALLOC] -= F;
    if (D == 0u) {
      g[S_RSC] += 1u;
      g[S_ESC] += g[S_EVI];
      if (g[S_RSC] > P(P_WATCHDOG) && g[S_ESC] > 0u) { g[S_STATUS] = 3u; }
    } else {
      g[S_RSC] = 0u;
      g[S_ESC] = 0u;
    }
    g[S_ROUNDS] += 1u;
    g[S_NOWLO] = endlo;
    g[S_NOWHI] = endhi;
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
  let vllm = kind == 4u;
  for (var step = 0u; step < cfg.steps; step++) {
    if (lid == 0u && g[S_STATUS] == 0u) {
      g[S_STEPS] += 1u;
      enqueue0(kind);
    }
    let G = workgroupUniformLoad(&g);
    if (G[S_STATUS] != 0u) { break; }
    if (G[S_WAIT] == 0u && G[S_RUN] == 0u) {
      if (lid == 0u) {
        if (g[S_PEND] >= N) { g[S_STATUS] = 1u; } else { jump0(); }
      }
      workgroupBarrier();
      continue;
    }
    if (lid == 0u) {
      g[S_ADM] = 0u;
      g[S_EVI] = 0u;
    }
    sync();
    if (vllm) {
      if (lid == 0u) { schedule_vllm0(); }
      sync();
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
          if (g[S_PEND] < N) { jump0(); } else { g[S_STATUS] = 2u; }
        }
      }
      workgroupBarrier();
      continue;
    }
    if (lid == 0u) { g[S_RETRIED] = 0u; }
    execute(vllm);
  }
  workgroupBarrier();
  for (var i = lid; i < S_STRIDE; i += W) { rs[rep * S_STRIDE + i] = g[i]; }
}
