// Arithmetic probe: the device's peak rate of fused multiply-adds, no memory traffic but
// one store. One vec4 chain per invocation, 32 fma() per loop iteration (256 FLOP).
// FLOPs = 256 * iters * invocations.
//
// Why this shape: it is the fastest of the shapes measured on SwiftShader (Dawn and
// Chromium, Subzero JIT, 4-wide SSE across invocations). There each loop iteration has a
// fixed cost (active-lane masks, loop-carried copies) that is paid once per 32 FMAs here,
// and more than one live vec4 per invocation spills to the stack; the earlier probe (four
// chains, one fma each per iteration) measured 4.3x less. On a GPU the four lanes of the
// vec4 are four independent chains per invocation.

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
  let m = vec4<f32>(0.99999);
  let e = vec4<f32>(1.0e-5);
  for (var i = 0u; i < p.iters; i++) {
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
    a = fma(a, m, e);
  }
  dst[gid.x] = a;
}
