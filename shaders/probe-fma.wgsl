// Arithmetic probe: a loop of fused multiply-adds on four independent vec4 chains per
// invocation (16 FMAs = 32 FLOP per iteration), no memory traffic but one store.
// FLOPs = 32 * iters * invocations.

struct Params {
  iters: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = f32(gid.x) * 1.0e-6;
  var a = vec4<f32>(s, s + 0.1, s + 0.2, s + 0.3);
  var b = a + 0.01;
  var c = a + 0.02;
  var d = a + 0.03;
  let m = vec4<f32>(0.99999);
  let e = vec4<f32>(1.0e-5);
  for (var i = 0u; i < p.iters; i++) {
    a = fma(a, m, e);
    b = fma(b, m, e);
    c = fma(c, m, e);
    d = fma(d, m, e);
  }
  dst[gid.x] = a + b + c + d;
}
