// Streaming-read bandwidth probe: every invocation sums its share of a buffer of vec4s
// (each element read exactly once) and writes one vec4, so the reads cannot be elided.
// Bytes moved = 16 * n_vec4 (+ 16 per invocation written). Dispatch: (workgroups, 1, 1).
//
// Element s of invocation g is g * first + s * step, for those below min(g * first + span,
// n_vec4). Two layouts, chosen by the host:
//   - grid-strided (first = 1, span = n_vec4, step = invocations): neighbouring invocations
//     read neighbouring vec4s, the coalesced pattern of a GPU;
//   - contiguous (first = span = ceil(n_vec4 / invocations), step = 1): each invocation
//     streams its own run. On a CPU adapter (SwiftShader runs one SIMD group of invocations
//     at a time on a core) the strided layout jumps 16 * invocations bytes per load, which
//     defeats the prefetcher; contiguous runs read 1.6x faster there.
// Eight loads per loop iteration: SwiftShader pays a fixed cost per iteration.

struct Params {
  n_vec4: u32,
  first: u32,
  span: u32,
  step: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  var a = vec4<f32>(0.0);
  var i = gid.x * p.first;
  let end = min(i + p.span, p.n_vec4);
  let s = p.step;
  for (; i + 7u * s < end; i += 8u * s) {
    a += src[i];
    a += src[i + s];
    a += src[i + 2u * s];
    a += src[i + 3u * s];
    a += src[i + 4u * s];
    a += src[i + 5u * s];
    a += src[i + 6u * s];
    a += src[i + 7u * s];
  }
  for (; i < end; i += s) {
    a += src[i];
  }
  dst[gid.x] = a;
}
