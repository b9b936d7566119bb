/**
 * Generate shaders/matmul.wgsl (the linear-layer kernel of the calibration).
 *
 *   npx tsx scripts/gen-matmul-wgsl.ts
 *
 * The kernel's inner loop is fully unrolled so that every index into workgroup memory is
 * a constant, and its accumulators are 64 named vec4s: WGSL has no unrolling directive,
 * and on SwiftShader (the CPU adapter of Dawn and Chromium) a load whose index is only
 * known at run time costs a per-lane gather, several times a load at a constant index.
 * Writing that by hand is error-prone, so it is generated; test/node/kernel-sources.test.ts
 * re-runs `generateMatmulWgsl` and compares with the committed file byte for byte.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MATMUL_TILE } from '../src/gpu/kernels.ts';

const MATMUL_ROWS = MATMUL_TILE.rows;
const MATMUL_WG = MATMUL_TILE.invocations;
const MATMUL_COLS = MATMUL_TILE.cols;

const COMPONENTS = ['x', 'y', 'z', 'w'] as const;

export function generateMatmulWgsl(): string {
  const R = MATMUL_ROWS;
  // Invocation t stages row t of the X tile; each invocation owns two vec4 columns.
  if (MATMUL_WG !== R || MATMUL_COLS !== MATMUL_WG * 8)
    throw new Error('matmul tile: rows must equal invocations, columns 8 per invocation');
  const L: string[] = [];
  L.push(
    '// GENERATED FILE — DO NOT EDIT. Regenerate with: npx tsx scripts/gen-matmul-wgsl.ts',
    '//',
    '// Linear layer work: Y[M x N] = X[M x K] * W[K x N] (row-major f32), the projections and',
    '// MLP of a transformer layer for the M tokens of a round. K and N must be multiples of 4.',
    `// Each workgroup computes a ${R} x ${MATMUL_COLS} block of Y: its ${MATMUL_WG} invocations each own two vec4`,
    `// columns (col0 and col0 + ${MATMUL_WG}) of all ${R} rows, i.e. ${2 * R} vec4 accumulators. K advances four at a`,
    `// time: the ${R} x 4 tile of X goes through workgroup memory (one vec4 per invocation), W is`,
    '// read straight from the storage buffer (each W vec4 serves 32 FMAs, each X element 2).',
    `// Dispatch: (ceil(N / ${MATMUL_COLS}), ceil(M / ${R}), 1).`,
    '//',
    '// Why this shape (measured on SwiftShader, Dawn and Chromium, in CPU time per run):',
    '// every load there is expensive next to an FMA — a storage or workgroup load at an index',
    '// known only at run time is a per-lane gather with bounds checks — so the tile maximises',
    '// FMAs per load. The K loop body is unrolled and reads the X tile at constant indices',
    '// (~3x cheaper than a run-time index); 32 rows x 2 vec4 beat 16 x 2, 32 x 1, 32 x 4 and',
    '// 64 x 1; 32 invocations beat 16 and 64; fma() and a * b + c cost the same there.',
    '// 1.9x the earlier 4 x 8 per thread, 32 x 128 per workgroup kernel. On a GPU, 64 vec4',
    '// accumulators are many registers per thread; the tile is sized for the CPU adapter.',
    '',
    `const R: u32 = ${R}u;     // rows per workgroup`,
    `const WG: u32 = ${MATMUL_WG}u;    // invocations per workgroup`,
    '',
    'struct Params {',
    '  m: u32,',
    '  n: u32,',
    '  k: u32,',
    '  _pad: u32,',
    '}',
    '',
    '@group(0) @binding(0) var<uniform> p: Params;',
    '@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;',
    '@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;',
    '@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;',
    '',
    `var<workgroup> xs: array<vec4<f32>, ${R}>;  // X tile: [row][k0 .. k0 + 3]`,
    '',
    `@compute @workgroup_size(${MATMUL_WG})`,
    'fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {',
    '  let n_v4 = p.n / 4u;',
    '  let k_v4 = p.k / 4u;',
    '  let row0 = wg.y * R;',
    '  let col0 = wg.x * (2u * WG) + t;',
    '  let col1 = col0 + WG;',
    '  // Loads use clamped columns; results of columns past N are not stored.',
    '  let wc0 = min(col0, n_v4 - 1u);',
    '  let wc1 = min(col1, n_v4 - 1u);',
  );
  for (let r = 0; r < R; r++) L.push(`  var y${r}a = vec4<f32>(0.0);`, `  var y${r}b = vec4<f32>(0.0);`);
  L.push(
    '  for (var k0 = 0u; k0 < p.k; k0 += 4u) {',
    `    // X tile: invocation t loads row t, columns k0 .. k0 + 3 (zero past M).`,
    '    var xv = vec4<f32>(0.0);',
    '    if (row0 + t < p.m) {',
    '      xv = x[(row0 + t) * k_v4 + k0 / 4u];',
    '    }',
    '    xs[t] = xv;',
    '    workgroupBarrier();',
  );
  for (let kk = 0; kk < 4; kk++) {
    const c = COMPONENTS[kk] as string;
    L.push(
      `    // k = k0 + ${kk}`,
      '    {',
      `      let wr = (k0 + ${kk}u) * n_v4;`,
      '      let wa = w[wr + wc0];',
      '      let wb = w[wr + wc1];',
    );
    for (let r = 0; r < R; r++) {
      L.push(
        `      let x${r} = vec4<f32>(xs[${r}].${c});`,
        `      y${r}a = fma(x${r}, wa, y${r}a);`,
        `      y${r}b = fma(x${r}, wb, y${r}b);`,
      );
    }
    L.push('    }');
  }
  L.push('    workgroupBarrier();', '  }');
  for (const [col, s] of [
    ['col0', 'a'],
    ['col1', 'b'],
  ] as const) {
    L.push(`  if (${col} < n_v4) {`);
    for (let r = 0; r < R; r++)
      L.push(`    if (row0 + ${r}u < p.m) { y[(row0 + ${r}u) * n_v4 + ${col}] = y${r}${s}; }`);
    L.push('  }');
  }
  L.push('}', '');
  return L.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = fileURLToPath(new URL('../shaders/matmul.wgsl', import.meta.url));
  writeFileSync(out, generateMatmulWgsl());
  console.log(`wrote ${out}`);
}
