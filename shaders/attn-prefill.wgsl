// Prefill attention, causal, over one prompt chunk (grouped-query: 64 query heads,
// 8 KV heads, head dim 128). Compute-bound: ~4 * 128 * 64 * C(C+1)/2 FLOPs per layer.
// FlashAttention-style: one workgroup per (block of 8 query positions, KV head); its 64
// threads are the 8 positions x 8 query heads of that KV head, each holding its query
// row and output accumulator privately, working on four keys at a time. K and V tiles of 16 tokens are staged in
// workgroup memory and shared by all 64 query rows; online softmax per tile.
//
// Layouts (row-major, f32):
//   q, o : [position][64 query heads][128]
//   k, v : [position][kv_heads][128]
// Work items are (block of 8 positions, KV head) pairs; workgroups loop over them
// (item = wg.x, wg.x + num_workgroups.x, ...): one per item on a GPU, a few persistent
// ones on a CPU adapter (see attn-decode.wgsl). Dispatch: (workgroups, 1, 1).

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
  var acc: array<vec4<f32>, 32>;
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
        // Scores four keys at a time (one load of each query element serves four dots);
        // keys past n (causal mask) get -3e38 and probability 0.
        var s: array<vec4<f32>, 4>;
        var mt = m;
        for (var jg = 0u; jg < BC / 4u; jg++) {
          let j0 = jg * 4u;
          if (j0 >= n) {
            s[jg] = vec4<f32>(-3.0e38);
            continue;
          }
          var a0 = vec4<f32>(0.0);
          var a1 = vec4<f32>(0.0);
          var a2 = vec4<f32>(0.0);
          var a3 = vec4<f32>(0.0);
          for (var d = 0u; d < HEAD_DIM_V4; d++) {
            let qd = qv[d];
            a0 += qd * ks[j0 * HEAD_DIM_V4 + d];
            a1 += qd * ks[(j0 + 1u) * HEAD_DIM_V4 + d];
            a2 += qd * ks[(j0 + 2u) * HEAD_DIM_V4 + d];
            a3 += qd * ks[(j0 + 3u) * HEAD_DIM_V4 + d];
          }
          var sc = vec4<f32>(a0.x + a0.y + a0.z + a0.w, a1.x + a1.y + a1.z + a1.w, a2.x + a2.y + a2.z + a2.w, a3.x + a3.y + a3.z + a3.w);
          sc = select(vec4<f32>(-3.0e38), sc, vec4<u32>(j0, j0 + 1u, j0 + 2u, j0 + 3u) < vec4<u32>(n));
          s[jg] = sc;
          mt = max(mt, max(max(sc.x, sc.y), max(sc.z, sc.w)));
        }
        let alpha = exp(m - mt);
        l *= alpha;
        for (var d = 0u; d < HEAD_DIM_V4; d++) {
          acc[d] *= alpha;
        }
        for (var jg = 0u; jg * 4u < n; jg++) {
          let j0 = jg * 4u;
          let e = exp(s[jg] - vec4<f32>(mt));
          l += e.x + e.y + e.z + e.w;
          for (var d = 0u; d < HEAD_DIM_V4; d++) {
            acc[d] += e.x * vs[j0 * HEAD_DIM_V4 + d] + e.y * vs[(j0 + 1u) * HEAD_DIM_V4 + d]
              + e.z * vs[(j0 + 2u) * HEAD_DIM_V4 + d] + e.w * vs[(j0 + 3u) * HEAD_DIM_V4 + d];
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
