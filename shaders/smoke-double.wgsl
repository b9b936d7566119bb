// Smoke test kernel: out[i] = 2 * in[i] for i < arrayLength(&input).
// Used by test/browser/smoke.test.ts to prove compute dispatch + readback work.

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i < arrayLength(&input)) {
    output[i] = 2.0 * input[i];
  }
}
