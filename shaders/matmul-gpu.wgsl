// Linear layer work on a GPU: Y[M x N] = X[M x K] * W[K x N] (row-major f32), the
// projections and MLP of a transformer layer for the M tokens of a round. matmul.wgsl is
// tuned for CPU (fallback) adapters: 64 vec4 accumulators per invocation, 32 invocations
// per workgroup, which would cost a real GPU its occupancy; this classic tiling (128
// invocations, 8 vec4 accumulators each) is what non-fallback adapters run.
// Tiled in workgroup memory:
// a 32 x 128 output tile per workgroup, K in steps of 16; each of the 128 threads owns a
// 4 x 8 block of outputs (register blocking: 3 workgroup-memory loads per 8 vec4 FMAs;
// 1.6x faster on SwiftShader than 4 x 4). K and N must be multiples of 4.
// Dispatch: (ceil(N / 128), ceil(M / 32), 1).
const TM: u32 = 32u;
const TN_V4: u32 = 32u;  // 128 / 4
const TK: u32 = 16u;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;

var<workgroup> as_: array<vec4<f32>, 128>;  // [k][row / 4]: TK x 8
var<workgroup> bs: array<vec4<f32>, 512>;   // [k][col / 4]: TK x 32

@compute @workgroup_size(128)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let tx = t % 16u;          // column pair group: vec4 columns tx and tx + 16
  let ty = t / 16u;          // row group (4 rows), 0..7
  let row0 = wg.y * TM;
  let n_v4 = p.n / 4u;
  let k_v4 = p.k / 4u;
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var d0 = vec4<f32>(0.0);
  var d1 = vec4<f32>(0.0);
  var d2 = vec4<f32>(0.0);
  var d3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < p.k; k0 += TK) {
    // X tile: 32 rows x 4 vec4 = 128 vec4, 1 per thread, stored transposed.
    {
      let r = t / 4u;
      let kq = t % 4u;
      let row = row0 + r;
      let kk = k0 / 4u + kq;
      var xv = vec4<f32>(0.0);
      if (row < p.m && kk < k_v4) {
        xv = x[row * k_v4 + kk];
      }
      let dst = kq * 4u * 8u + r / 4u;
      as_[dst][r % 4u] = xv.x;
      as_[dst + 8u][r % 4u] = xv.y;
      as_[dst + 16u][r % 4u] = xv.z;
      as_[dst + 24u][r % 4u] = xv.w;
    }
    for (var i = t; i < 512u; i += 128u) {
      let kr = k0 + i / TN_V4;
      let cv = wg.x * TN_V4 + i % TN_V4;
      var wv = vec4<f32>(0.0);
      if (kr < p.k && cv < n_v4) {
        wv = w[kr * n_v4 + cv];
      }
      bs[i] = wv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let a = as_[kk * 8u + ty];
      let b = bs[kk * TN_V4 + tx];
      let e = bs[kk * TN_V4 + tx + 16u];
      c0 += a.x * b;
      c1 += a.y * b;
      c2 += a.z * b;
      c3 += a.w * b;
      d0 += a.x * e;
      d1 += a.y * e;
      d2 += a.z * e;
      d3 += a.w * e;
    }
    workgroupBarrier();
  }
  let r = row0 + ty * 4u;
  let ca = wg.x * TN_V4 + tx;
  let cb = ca + 16u;
  if (ca < n_v4) {
    if (r < p.m) { y[r * n_v4 + ca] = c0; }
    if (r + 1u < p.m) { y[(r + 1u) * n_v4 + ca] = c1; }
    if (r + 2u < p.m) { y[(r + 2u) * n_v4 + ca] = c2; }
    if (r + 3u < p.m) { y[(r + 3u) * n_v4 + ca] = c3; }
  }
  if (cb < n_v4) {
    if (r < p.m) { y[r * n_v4 + cb] = d0; }
    if (r + 1u < p.m) { y[(r + 1u) * n_v4 + cb] = d1; }
    if (r + 2u < p.m) { y[(r + 2u) * n_v4 + cb] = d2; }
    if (r + 3u < p.m) { y[(r + 3u) * n_v4 + cb] = d3; }
  }
}
