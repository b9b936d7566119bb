/**
 * Generate shaders/engine/layout.wgsl: the GPU engine's record offsets, strides, enums and
 * `struct Cfg`, from their one declaration in src/gpu-engine/layout.ts.
 *
 *   npx tsx scripts/gen-engine-layout.ts
 *
 * The shader loaders (src/gpu/shaders-node.ts, src/gpu/shaders-browser.ts) put the
 * generated file before shaders/engine/scheduler.wgsl. test/node/kernel-sources.test.ts
 * re-runs `generateEngineLayoutWgsl` and compares with the committed file byte for byte.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CFG, NONE, upperSnake, WGSL_ENUMS, WGSL_RECORDS, type FieldDecl } from '../src/gpu-engine/layout.ts';

function constLine(name: string, value: number, doc?: string): string {
  const line = `const ${name}: u32 = ${value}u;`;
  return doc ? `${line.padEnd(40)} // ${doc}` : line;
}

function fieldLines(prefix: string, f: FieldDecl, at: number): string[] {
  const base = `${prefix}_${upperSnake(f.name)}`;
  if (f.type !== 'u64') return [constLine(base, at, f.doc)];
  return [constLine(`${base}_LO`, at, f.doc ? `${f.doc} (u64)` : 'u64'), constLine(`${base}_HI`, at + 1)];
}

export function generateEngineLayoutWgsl(): string {
  const L: string[] = [
    '// GENERATED FILE — DO NOT EDIT. Regenerate with: npx tsx scripts/gen-engine-layout.ts',
    '//',
    "// The GPU engine's buffer layout and enums, declared once in src/gpu-engine/layout.ts (the",
    '// host reads and writes the same records through views named after these fields). The',
    '// shader loaders put this file before shaders/engine/scheduler.wgsl. Offsets and strides',
    '// are in u32 words; a u64 field is two words, low then high.',
    '',
    `${`const NONE: u32 = 0x${NONE.toString(16)}u;`.padEnd(40)} // no value (R_FIRST_TOKEN_HI before the first token)`,
  ];
  for (const e of WGSL_ENUMS) {
    L.push('', `// ---- ${e.title} ----`);
    e.names.forEach((n, i) => L.push(constLine(`${e.prefix}_${upperSnake(n)}`, i)));
  }
  for (const r of WGSL_RECORDS) {
    L.push('', `// ---- ${r.title}, stride ${r.stride} ----`);
    let at = 0;
    for (const f of r.fields) {
      L.push(...fieldLines(r.prefix, f, at));
      at += f.type === 'u64' ? 2 : 1;
    }
    L.push(constLine(`${r.prefix}_STRIDE`, r.stride));
  }
  L.push('', `// ---- ${CFG.title} ----`, 'struct Cfg {');
  for (const f of CFG.fields) {
    if (f.type === 'u64') throw new Error('struct Cfg: u64 fields are not supported');
    L.push(f.doc ? `  ${f.name}: u32, // ${f.doc}` : `  ${f.name}: u32,`);
  }
  for (let w = CFG.fields.length; w < CFG.stride; w++) L.push(`  pad${w}: u32,`);
  L.push('}', '');
  return L.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = fileURLToPath(new URL('../shaders/engine/layout.wgsl', import.meta.url));
  writeFileSync(out, generateEngineLayoutWgsl());
  console.log(`wrote ${out}`);
}
