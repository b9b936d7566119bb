// Streaming-read bandwidth probe: every invocation sums a grid-strided run of vec4s
// (each element read exactly once) and writes one vec4, so the reads cannot be elided.
// Bytes moved = 16 * n_vec4 (+ 16 per invocation written).
// Dispatch: (workgroups, 1, 1) with workgroups * 256 = the stride.

struct Params {
  n_vec4: u32,
  stride: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  var a = vec4<f32>(0.0);
  var b = vec4<f32>(0.0);
  var i = gid.x;
  for (; i + p.stride < p.n_vec4; i += 2u * p.stride) {
    a += src[i];
    b += src[i + p.stride];
  }
  if (i < p.n_vec4) {
    a += src[i];
  }
  dst[gid.x] = a + b;
}
