// Decode attention, grouped-query (Llama-2-70B: 64 query heads, 8 KV heads, head dim 128).
// Each sequence has one new query token per query head and attends to its own KV history.
// One workgroup per (sequence, KV head): the 8 query heads that share a KV head are
// processed together, so K and V of every attended token are read from memory once
// (memory-bound). Online softmax over tiles of 256 tokens (4 per thread); the tile's
// maximum is found by every thread from the 64 per-thread maxima, so no thread works alone.
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

const HEAD_DIM_V4: u32 = 32u;  // 128 / 4
const GROUP: u32 = 8u;         // query heads per KV head
const WG: u32 = 64u;           // workgroup size
const TILE: u32 = 256u;        // tokens per tile (4 per thread)

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
@group(0) @binding(3) var<storage, read> v: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> seqs: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read_write> o: array<vec2<f32>>;

var<workgroup> qs: array<vec4<f32>, 256>;     // 8 heads x 32 vec4
var<workgroup> ps: array<vec4<f32>, 512>;     // [token in tile][2]: scores, then probabilities, of heads 0-3 / 4-7
var<workgroup> lmax: array<vec4<f32>, 128>;   // [thread][2]: per-thread maxima of this tile

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  for (var item = wg.x; item < p.seq_count * p.kv_heads; item += nwg.x) {
    attend(p.seq_base + item / p.kv_heads, item % p.kv_heads, t);
  }
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
  // Running max and sum of heads 0-3 (x) and 4-7 (y); the same in every thread.
  var m0 = vec4<f32>(-3.0e38);
  var m1 = vec4<f32>(-3.0e38);
  var l0 = vec4<f32>(0.0);
  var l1 = vec4<f32>(0.0);
  var acc: array<vec2<f32>, 8>;
  workgroupBarrier();

  for (var start = 0u; start < len; start += TILE) {
    let n = min(TILE, len - start);
    // 1. scores of this thread's tokens (t, t + 64, ...) against the 8 query heads.
    var lm0 = vec4<f32>(-3.0e38);
    var lm1 = vec4<f32>(-3.0e38);
    for (var j = t; j < n; j += 2u * WG) {
      // Two tokens (j, j + 64) per pass share every load of the queries.
      let j2 = j + WG;
      let two = j2 < n;
      let kb = ((first + start + j) * p.kv_heads + g) * HEAD_DIM_V4;
      let kb2 = select(kb, ((first + start + j2) * p.kv_heads + g) * HEAD_DIM_V4, two);
      var a0 = vec4<f32>(0.0);
      var a1 = vec4<f32>(0.0);
      var b0 = vec4<f32>(0.0);
      var b1 = vec4<f32>(0.0);
      for (var d = 0u; d < HEAD_DIM_V4; d++) {
        let kk = k[kb + d];
        let k2 = k[kb2 + d];
        let q0 = qs[d];
        let q1 = qs[32u + d];
        let q2 = qs[64u + d];
        let q3 = qs[96u + d];
        a0 += vec4<f32>(dot(q0, kk), dot(q1, kk), dot(q2, kk), dot(q3, kk));
        b0 += vec4<f32>(dot(q0, k2), dot(q1, k2), dot(q2, k2), dot(q3, k2));
        let q4 = qs[128u + d];
        let q5 = qs[160u + d];
        let q6 = qs[192u + d];
        let q7 = qs[224u + d];
        a1 += vec4<f32>(dot(q4, kk), dot(q5, kk), dot(q6, kk), dot(q7, kk));
        b1 += vec4<f32>(dot(q4, k2), dot(q5, k2), dot(q6, k2), dot(q7, k2));
      }
      let s0 = a0 * p.scale;
      let s1 = a1 * p.scale;
      ps[2u * j] = s0;
      ps[2u * j + 1u] = s1;
      lm0 = max(lm0, s0);
      lm1 = max(lm1, s1);
      if (two) {
        let r0 = b0 * p.scale;
        let r1 = b1 * p.scale;
        ps[2u * j2] = r0;
        ps[2u * j2 + 1u] = r1;
        lm0 = max(lm0, r0);
        lm1 = max(lm1, r1);
      }
    }
    lmax[2u * t] = lm0;
    lmax[2u * t + 1u] = lm1;
    workgroupBarrier();
    // 2. new running max (every thread, from the 64 maxima), probabilities of own tokens.
    var mt0 = m0;
    var mt1 = m1;
    for (var i = 0u; i < WG; i++) {
      mt0 = max(mt0, lmax[2u * i]);
      mt1 = max(mt1, lmax[2u * i + 1u]);
    }
    let al0 = exp(m0 - mt0);
    let al1 = exp(m1 - mt1);
    m0 = mt0;
    m1 = mt1;
    var ls0 = vec4<f32>(0.0);
    var ls1 = vec4<f32>(0.0);
    for (var j = t; j < n; j += WG) {
      let e0 = exp(ps[2u * j] - mt0);
      let e1 = exp(ps[2u * j + 1u] - mt1);
      ps[2u * j] = e0;
      ps[2u * j + 1u] = e1;
      ls0 += e0;
      ls1 += e1;
    }
    workgroupBarrier();
    // lmax is free again (everyone read it before the barrier): reuse it for the partial sums.
    lmax[2u * t] = ls0;
    lmax[2u * t + 1u] = ls1;
    workgroupBarrier();
    // 3. acc = acc * alpha + P V, this thread owning dims 2t, 2t+1 of all 8 heads.
    l0 *= al0;
    l1 *= al1;
    for (var i = 0u; i < WG; i++) {
      l0 += lmax[2u * i];
      l1 += lmax[2u * i + 1u];
    }
    acc[0] *= al0.x;
    acc[1] *= al0.y;
    acc[2] *= al0.z;
    acc[3] *= al0.w;
    acc[4] *= al1.x;
    acc[5] *= al1.y;
    acc[6] *= al1.z;
    acc[7] *= al1.w;
    let vb = (first + start) * p.kv_heads + g;
    for (var j = 0u; j < n; j++) {
      let vv = v[((vb + j * p.kv_heads) * HEAD_DIM_V4) * 2u + t];
      let pa = ps[2u * j];
      let pb = ps[2u * j + 1u];
      acc[0] += pa.x * vv;
      acc[1] += pa.y * vv;
      acc[2] += pa.z * vv;
      acc[3] += pa.w * vv;
      acc[4] += pb.x * vv;
      acc[5] += pb.y * vv;
      acc[6] += pb.z * vv;
      acc[7] += pb.w * vv;
    }
    workgroupBarrier();
  }
  let inv0 = select(vec4<f32>(0.0), 1.0 / l0, l0 > vec4<f32>(0.0));
  let inv1 = select(vec4<f32>(0.0), 1.0 / l1, l1 > vec4<f32>(0.0));
  let ob = q_base * 2u + t;
  o[ob] = acc[0] * inv0.x;
  o[ob + 64u] = acc[1] * inv0.y;
  o[ob + 128u] = acc[2] * inv0.z;
  o[ob + 192u] = acc[3] * inv0.w;
  o[ob + 256u] = acc[4] * inv1.x;
  o[ob + 320u] = acc[5] * inv1.y;
  o[ob + 384u] = acc[6] * inv1.z;
  o[ob + 448u] = acc[7] * inv1.w;
}
