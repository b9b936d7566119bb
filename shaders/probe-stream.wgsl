// Streaming-read bandwidth probe: every invocation sums its share of a buffer (each
// element read exactly once) and writes one vec4, so the reads cannot be elided.
// The buffer is read as rows of 8 vec4 (128 bytes), one whole row per load.
// Bytes moved = 128 * n_rows (+ 16 per invocation written). Dispatch: (workgroups, 1, 1).
//
// Row s of invocation g is g * first + s * step, for those below min(g * first + span,
// n_rows). Two layouts, chosen by the host:
//   - grid-strided (first = 1, span = n_rows, step = invocations): neighbouring invocations
//     read neighbouring rows, the coalesced pattern of a GPU;
//   - contiguous (first = span = ceil(n_rows / invocations), step = 1): each invocation
//     streams its own run. On a CPU adapter (SwiftShader runs one SIMD group of invocations
//     at a time on a core) the strided layout jumps 128 * invocations bytes per load, which
//     defeats the prefetcher; contiguous runs read 1.15x faster there.
// Why whole rows: on SwiftShader every load of a runtime-sized array pays a bounds clamp
// (an integer division per lane) and a per-lane gather; one 128-byte load clamps once for
// eight vec4 and measured 1.15x the rate of eight vec4 loads (CPU time per run; 1.6x in
// the strided layout).

struct Params {
  n_rows: u32,
  first: u32,
  span: u32,
  step: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<array<vec4<f32>, 8>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  var a = vec4<f32>(0.0);
  let end = min(gid.x * p.first + p.span, p.n_rows);
  for (var r = gid.x * p.first; r < end; r += p.step) {
    let row = src[r];
    a += row[0] + row[1] + row[2] + row[3] + row[4] + row[5] + row[6] + row[7];
  }
  dst[gid.x] = a;
}
