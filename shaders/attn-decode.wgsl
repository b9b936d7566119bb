// Decode attention, grouped-query (Llama-2-70B: 64 query heads, 8 KV heads, head dim 128).
// Each sequence has one new query token per query head and attends to its own KV history.
// One work item per (sequence, KV head): the 8 query heads that share a KV head are
// processed together, so K and V of every attended token are read from memory once
// (memory-bound). Online softmax over tiles of 256 tokens:
//   1. scores: each of the 32 invocations scores 8 tokens of the tile (t, t + 32, ...)
//      against the 8 query heads; one load of the queries serves the 8 tokens;
//   2. the tile's maximum: invocation 0 reduces the 32 per-invocation maxima; each
//      invocation turns its own scores into probabilities and keeps its own running sum
//      (the 32 sums are added once, at the end);
//   3. P V: invocation t owns dims 4t .. 4t + 3 of the 8 heads (one vec4 of V per token).
//
// Layouts (row-major, f32):
//   q, o : [sequence][64 query heads][128]       (query head = kv_head * 8 + h)
//   k, v : [token][kv_heads][128]                 (tokens of one binding; see token_base)
//   seqs : [sequence] -> (first token, length)    (first token is global; minus token_base)
// Work items are (sequence, KV head) pairs; workgroups loop over them (item = wg.x,
// wg.x + num_workgroups.x, ...). Dispatch one workgroup per item on a GPU, or a few
// persistent workgroups on a CPU adapter (SwiftShader), where starting a workgroup costs
// about as much as attending to a few hundred tokens. A long batch whose KV exceeds one
// binding is split into segments by the host, each with its own params and bindings.
//
// Why this shape (SwiftShader, CPU time per run): every load there, from storage or
// workgroup memory at an index known only at run time, is a per-lane gather that costs
// several FMAs, so the kernel minimises loads per byte of K and V: 8 tokens per invocation
// in phase 1 (was 2: half the query loads per K load), one vec4 of V per token and
// invocation in phase 3 (was a vec2: half the probability loads per V load), and the
// tile maximum and softmax sum no longer read by every invocation (each read 256 vec4 of
// workgroup memory per tile). 1.6x the earlier 64-invocation kernel; 32 invocations beat
// 64, and 16 are only ~10 % faster on SwiftShader while wasting half a GPU warp.

const HEAD_DIM_V4: u32 = 32u;  // 128 / 4
const GROUP: u32 = 8u;         // query heads per KV head
const WG: u32 = 32u;           // workgroup size
const TILE: u32 = 256u;        // tokens per tile (8 per invocation)

struct Params {
  kv_heads: u32,
  seq_base: u32,    // first sequence of this segment (index into seqs, q, o)
  token_base: u32,  // global token index of element 0 of the k / v bindings
  scale: f32,       // 1 / sqrt(128)
  seq_count: u32,   // sequences in this segment
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> seqs: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read_write> o: array<vec4<f32>>;

var<workgroup> qs: array<vec4<f32>, 256>;    // 8 heads x 32 vec4
var<workgroup> ps: array<vec4<f32>, 512>;    // [token in tile][2]: scores, then probabilities, of heads 0-3 / 4-7
var<workgroup> part: array<vec4<f32>, 64>;   // [invocation][2]: maxima of this tile; at the end, sums
var<workgroup> red: array<vec4<f32>, 2>;     // their reduction (heads 0-3, 4-7)

@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  for (var item = wg.x; item < p.seq_count * p.kv_heads; item += nwg.x) {
    attend(p.seq_base + item / p.kv_heads, item % p.kv_heads, t);
  }
}

// Scores of one token against the 8 heads: (heads 0-3, heads 4-7) += q_h . kk.
fn score(a: vec4<f32>, q0: vec4<f32>, q1: vec4<f32>, q2: vec4<f32>, q3: vec4<f32>, kk: vec4<f32>) -> vec4<f32> {
  return a + vec4<f32>(dot(q0, kk), dot(q1, kk), dot(q2, kk), dot(q3, kk));
}

fn attend(seq: u32, g: u32, t: u32) {
  let sd = seqs[seq];
  let first = sd.x - p.token_base;
  let len = sd.y;
  let q_heads = p.kv_heads * GROUP;
  let q_base = (seq * q_heads + g * GROUP) * HEAD_DIM_V4;
  for (var i = t; i < GROUP * HEAD_DIM_V4; i += WG) {
    qs[i] = q[q_base + i];
  }
  // Running max of heads 0-3 (x) and 4-7 (y), the same in every invocation, and this
  // invocation's running sum of its own tokens' probabilities.
  var m0 = vec4<f32>(-3.0e38);
  var m1 = vec4<f32>(-3.0e38);
  var l0 = vec4<f32>(0.0);
  var l1 = vec4<f32>(0.0);
  var acc = array<vec4<f32>, 8>();  // dims 4t .. 4t + 3 of heads 0-7
  workgroupBarrier();

  for (var start = 0u; start < len; start += TILE) {
    let n = min(TILE, len - start);
    // 1. Scores of tokens t + 32 i, i = 0..7; tokens past n read a valid row and are dropped.
    let row = (first + start) * p.kv_heads + g;
    let last = n - 1u;
    let k0 = (row + min(t, last) * p.kv_heads) * HEAD_DIM_V4;
    let k1 = (row + min(t + 32u, last) * p.kv_heads) * HEAD_DIM_V4;
    let k2 = (row + min(t + 64u, last) * p.kv_heads) * HEAD_DIM_V4;
    let k3 = (row + min(t + 96u, last) * p.kv_heads) * HEAD_DIM_V4;
    let k4 = (row + min(t + 128u, last) * p.kv_heads) * HEAD_DIM_V4;
    let k5 = (row + min(t + 160u, last) * p.kv_heads) * HEAD_DIM_V4;
    let k6 = (row + min(t + 192u, last) * p.kv_heads) * HEAD_DIM_V4;
    let k7 = (row + min(t + 224u, last) * p.kv_heads) * HEAD_DIM_V4;
    // Explicit initializers: on Dawn + SwiftShader, `var a: array<vec4<f32>, 8>;` inside this
    // loop was not re-zeroed on the next tile (wrong scores past 256 tokens).
    var a = array<vec4<f32>, 8>();  // token i, heads 0-3
    var b = array<vec4<f32>, 8>();  // token i, heads 4-7
    for (var d = 0u; d < HEAD_DIM_V4; d++) {
      let q0 = qs[d];
      let q1 = qs[32u + d];
      let q2 = qs[64u + d];
      let q3 = qs[96u + d];
      let q4 = qs[128u + d];
      let q5 = qs[160u + d];
      let q6 = qs[192u + d];
      let q7 = qs[224u + d];
      let x0 = k[k0 + d];
      a[0] = score(a[0], q0, q1, q2, q3, x0);
      b[0] = score(b[0], q4, q5, q6, q7, x0);
      let x1 = k[k1 + d];
      a[1] = score(a[1], q0, q1, q2, q3, x1);
      b[1] = score(b[1], q4, q5, q6, q7, x1);
      let x2 = k[k2 + d];
      a[2] = score(a[2], q0, q1, q2, q3, x2);
      b[2] = score(b[2], q4, q5, q6, q7, x2);
      let x3 = k[k3 + d];
      a[3] = score(a[3], q0, q1, q2, q3, x3);
      b[3] = score(b[3], q4, q5, q6, q7, x3);
      let x4 = k[k4 + d];
      a[4] = score(a[4], q0, q1, q2, q3, x4);
      b[4] = score(b[4], q4, q5, q6, q7, x4);
      let x5 = k[k5 + d];
      a[5] = score(a[5], q0, q1, q2, q3, x5);
      b[5] = score(b[5], q4, q5, q6, q7, x5);
      let x6 = k[k6 + d];
      a[6] = score(a[6], q0, q1, q2, q3, x6);
      b[6] = score(b[6], q4, q5, q6, q7, x6);
      let x7 = k[k7 + d];
      a[7] = score(a[7], q0, q1, q2, q3, x7);
      b[7] = score(b[7], q4, q5, q6, q7, x7);
    }
    var lm0 = vec4<f32>(-3.0e38);
    var lm1 = vec4<f32>(-3.0e38);
    for (var i = 0u; i < 8u; i++) {
      let j = t + i * WG;
      if (j < n) {
        let s0 = a[i] * p.scale;
        let s1 = b[i] * p.scale;
        ps[2u * j] = s0;
        ps[2u * j + 1u] = s1;
        lm0 = max(lm0, s0);
        lm1 = max(lm1, s1);
      }
    }
    part[2u * t] = lm0;
    part[2u * t + 1u] = lm1;
    workgroupBarrier();
    // 2. The tile's maximum (one invocation reduces), probabilities of own tokens.
    if (t == 0u) {
      var r0 = part[0];
      var r1 = part[1];
      for (var i = 1u; i < WG; i++) {
        r0 = max(r0, part[2u * i]);
        r1 = max(r1, part[2u * i + 1u]);
      }
      red[0] = r0;
      red[1] = r1;
    }
    workgroupBarrier();
    let mt0 = max(m0, red[0]);
    let mt1 = max(m1, red[1]);
    let al0 = exp(m0 - mt0);
    let al1 = exp(m1 - mt1);
    m0 = mt0;
    m1 = mt1;
    l0 *= al0;
    l1 *= al1;
    for (var j = t; j < n; j += WG) {
      let e0 = exp(ps[2u * j] - mt0);
      let e1 = exp(ps[2u * j + 1u] - mt1);
      ps[2u * j] = e0;
      ps[2u * j + 1u] = e1;
      l0 += e0;
      l1 += e1;
    }
    workgroupBarrier();
    // 3. acc = acc * alpha + P V.
    acc[0] *= al0.x;
    acc[1] *= al0.y;
    acc[2] *= al0.z;
    acc[3] *= al0.w;
    acc[4] *= al1.x;
    acc[5] *= al1.y;
    acc[6] *= al1.z;
    acc[7] *= al1.w;
    let vb = row * HEAD_DIM_V4 + t;
    let vstride = p.kv_heads * HEAD_DIM_V4;
    for (var j = 0u; j < n; j++) {
      let vv = v[vb + j * vstride];
      let pa = ps[2u * j];
      let pb = ps[2u * j + 1u];
      acc[0] = fma(vec4<f32>(pa.x), vv, acc[0]);
      acc[1] = fma(vec4<f32>(pa.y), vv, acc[1]);
      acc[2] = fma(vec4<f32>(pa.z), vv, acc[2]);
      acc[3] = fma(vec4<f32>(pa.w), vv, acc[3]);
      acc[4] = fma(vec4<f32>(pb.x), vv, acc[4]);
      acc[5] = fma(vec4<f32>(pb.y), vv, acc[5]);
      acc[6] = fma(vec4<f32>(pb.z), vv, acc[6]);
      acc[7] = fma(vec4<f32>(pb.w), vv, acc[7]);
    }
    workgroupBarrier();
  }
  // The softmax denominators: the sum of the 32 invocations' sums.
  part[2u * t] = l0;
  part[2u * t + 1u] = l1;
  workgroupBarrier();
  if (t == 0u) {
    var r0 = part[0];
    var r1 = part[1];
    for (var i = 1u; i < WG; i++) {
      r0 += part[2u * i];
      r1 += part[2u * i + 1u];
    }
    red[0] = r0;
    red[1] = r1;
  }
  workgroupBarrier();
  let s0 = red[0];
  let s1 = red[1];
  let inv0 = select(vec4<f32>(0.0), 1.0 / s0, s0 > vec4<f32>(0.0));
  let inv1 = select(vec4<f32>(0.0), 1.0 / s1, s1 > vec4<f32>(0.0));
  let ob = q_base + t;
  o[ob] = acc[0] * inv0.x;
  o[ob + 32u] = acc[1] * inv0.y;
  o[ob + 64u] = acc[2] * inv0.z;
  o[ob + 96u] = acc[3] * inv0.w;
  o[ob + 128u] = acc[4] * inv1.x;
  o[ob + 160u] = acc[5] * inv1.y;
  o[ob + 192u] = acc[6] * inv1.z;
  o[ob + 224u] = acc[7] * inv1.w;
  // qs, part and red are rewritten by the next item.
  workgroupBarrier();
}
