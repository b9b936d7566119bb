// Prefill attention, causal, over one prompt chunk (grouped-query: 64 query heads,
// 8 KV heads, head dim 128). Compute-bound: ~4 * 128 * 64 * C(C+1)/2 FLOPs per layer.
// FlashAttention-style: one workgroup per (block of 8 query positions, KV head); its 64
// threads are the 8 positions x 8 query heads of that KV head, each holding its query
// row and output accumulator privately, working on eight keys at a time. K and V tiles of
// 16 tokens are staged in workgroup memory and shared by all 64 query rows; online softmax
// per tile.
//
// Layouts (row-major, f32):
//   q, o : [position][64 query heads][128]
//   k, v : [position][kv_heads][128]
// Work items are (block of 8 positions, KV head) pairs; workgroups loop over them
// (item = wg.x, wg.x + num_workgroups.x, ...): one per item on a GPU, a few persistent
// ones on a CPU adapter (see attn-decode.wgsl). Dispatch: (workgroups, 1, 1).
//
// Why eight keys at a time (was four): on SwiftShader every load of the private query row
// and accumulator and of the K / V tiles is a per-lane gather (their indices are known only
// at run time) and costs several FMAs; eight keys per pass halve the query-row loads per
// K load and the accumulator loads and stores per V load (+8 % in CPU time per run).
// Unrolling the 32-step head-dim loops instead (constant indices, query row and
// accumulator as 64 named vec4s) was 30 % slower: SwiftShader spills them. fma() costs the
// same as a * b + c there.

const HEAD_DIM_V4: u32 = 32u;
const GROUP: u32 = 8u;
const ROWS: u32 = 8u;   // query positions per workgroup
const BC: u32 = 16u;    // keys per tile

struct Params {
  len: u32,       // chunk length C
  kv_heads: u32,
  scale: f32,
  blocks: u32,    // ceil(C / 8)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> o: array<vec4<f32>>;

var<workgroup> ks: array<vec4<f32>, 512>;  // BC x 32
var<workgroup> vs: array<vec4<f32>, 512>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  for (var item = wg.x; item < p.blocks * p.kv_heads; item += nwg.x) {
    attend(item / p.kv_heads, item % p.kv_heads, t);
  }
}

fn attend(block: u32, g: u32, t: u32) {
  let pos = block * ROWS + t / GROUP;
  let head = g * GROUP + t % GROUP;
  let q_heads = p.kv_heads * GROUP;
  let live = pos < p.len;
  let qb = (pos * q_heads + head) * HEAD_DIM_V4;
  var qv: array<vec4<f32>, 32>;
  // Explicit initializer: on Dawn + SwiftShader a `var` array without one was found not to be
  // re-zeroed when its declaration runs again (see attn-decode.wgsl).
  var acc = array<vec4<f32>, 32>();
  if (live) {
    for (var d = 0u; d < HEAD_DIM_V4; d++) {
      qv[d] = q[qb + d] * p.scale;
    }
  }
  var m = -3.0e38;
  var l = 0.0;
  // Keys 0 ..= last position of this block (causal).
  let last = min(block * ROWS + ROWS, p.len);
  for (var kt = 0u; kt < last; kt += BC) {
    for (var i = t; i < BC * HEAD_DIM_V4; i += 64u) {
      let key = kt + i / HEAD_DIM_V4;
      var kk = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (key < p.len) {
        let src = (key * p.kv_heads + g) * HEAD_DIM_V4 + i % HEAD_DIM_V4;
        kk = k[src];
        vv = v[src];
      }
      ks[i] = kk;
      vs[i] = vv;
    }
    workgroupBarrier();
    if (live) {
      let n = min(BC, pos + 1u - min(kt, pos + 1u));
      if (n > 0u) {
        // Scores eight keys at a time (one load of each query element serves eight dots);
        // keys past n (causal mask) get -3e38 and probability 0.
        var s: array<vec4<f32>, 4>;  // every element is written before it is read
        var mt = m;
        for (var jg = 0u; jg < BC / 8u; jg++) {
          let j0 = jg * 8u;
          if (j0 >= n) {
            s[2u * jg] = vec4<f32>(-3.0e38);
            s[2u * jg + 1u] = vec4<f32>(-3.0e38);
            continue;
          }
          var a0 = vec4<f32>(0.0);
          var a1 = vec4<f32>(0.0);
          var a2 = vec4<f32>(0.0);
          var a3 = vec4<f32>(0.0);
          var a4 = vec4<f32>(0.0);
          var a5 = vec4<f32>(0.0);
          var a6 = vec4<f32>(0.0);
          var a7 = vec4<f32>(0.0);
          let kb = j0 * HEAD_DIM_V4;
          for (var d = 0u; d < HEAD_DIM_V4; d++) {
            let qd = qv[d];
            a0 += qd * ks[kb + d];
            a1 += qd * ks[kb + 32u + d];
            a2 += qd * ks[kb + 64u + d];
            a3 += qd * ks[kb + 96u + d];
            a4 += qd * ks[kb + 128u + d];
            a5 += qd * ks[kb + 160u + d];
            a6 += qd * ks[kb + 192u + d];
            a7 += qd * ks[kb + 224u + d];
          }
          let one = vec4<f32>(1.0);
          var sc0 = vec4<f32>(dot(a0, one), dot(a1, one), dot(a2, one), dot(a3, one));
          var sc1 = vec4<f32>(dot(a4, one), dot(a5, one), dot(a6, one), dot(a7, one));
          sc0 = select(vec4<f32>(-3.0e38), sc0, vec4<u32>(j0, j0 + 1u, j0 + 2u, j0 + 3u) < vec4<u32>(n));
          sc1 = select(vec4<f32>(-3.0e38), sc1, vec4<u32>(j0 + 4u, j0 + 5u, j0 + 6u, j0 + 7u) < vec4<u32>(n));
          s[2u * jg] = sc0;
          s[2u * jg + 1u] = sc1;
          mt = max(mt, max(max(max(sc0.x, sc0.y), max(sc0.z, sc0.w)), max(max(sc1.x, sc1.y), max(sc1.z, sc1.w))));
        }
        let alpha = exp(m - mt);
        l *= alpha;
        for (var jg = 0u; jg * 8u < n; jg++) {
          let j0 = jg * 8u;
          let e0 = exp(s[2u * jg] - vec4<f32>(mt));
          let e1 = exp(s[2u * jg + 1u] - vec4<f32>(mt));
          l += dot(e0, vec4<f32>(1.0)) + dot(e1, vec4<f32>(1.0));
          let vb = j0 * HEAD_DIM_V4;
          let first = jg == 0u;
          for (var d = 0u; d < HEAD_DIM_V4; d++) {
            var a = acc[d];
            if (first) { a *= alpha; }
            a += e0.x * vs[vb + d] + e0.y * vs[vb + 32u + d] + e0.z * vs[vb + 64u + d] + e0.w * vs[vb + 96u + d]
              + e1.x * vs[vb + 128u + d] + e1.y * vs[vb + 160u + d] + e1.z * vs[vb + 192u + d] + e1.w * vs[vb + 224u + d];
            acc[d] = a;
          }
        }
        m = mt;
      }
    }
    workgroupBarrier();
  }
  if (live) {
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var d = 0u; d < HEAD_DIM_V4; d++) {
      o[qb + d] = acc[d] * inv;
    }
  }
}
