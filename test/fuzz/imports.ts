/**
 * Import fuzzing (issue 17): hostile bundle and profile files built from valid ones by
 * mutation (a field replaced by a hostile value, a record duplicated or truncated, the
 * text cut, a BOM, prototype keys, deep nesting), fed to History's import path
 * (parseImportFile → importParsed). Outcomes:
 * - `rejected`: the file was refused (parse error or ImportError) and the store's record
 *   count is unchanged;
 * - `imported`: accepted; the count grew by exactly the records written;
 * - anything else is a finding (`thrown`: another exception; `count-changed`: a rejection
 *   that changed the store; `count-wrong`: an import that wrote a different number).
 */
import fc from 'fast-check';
import { defaultConfig } from '../../src/app/config.ts';
import { serializeProfile } from '../../src/calibrate/profile.ts';
import { makeBundle } from '../../src/storage/bundle.ts';
import { ImportError, importParsed, parseImportFile, type ImportWriter } from '../../src/storage/import.ts';
import type { StoredRecord } from '../../src/storage/schema.ts';
import { sampleProfile } from '../node/helpers/profile.ts';

export type ImportOutcome = 'rejected' | 'imported' | 'thrown' | 'count-changed' | 'count-wrong';
export const IMPORT_ALLOWED: readonly ImportOutcome[] = ['rejected', 'imported'];

const summary = {
  requests: 2,
  meanLatency: 1.5,
  p50Latency: 1,
  p90Latency: 2,
  p99Latency: 2,
  maxLatency: 2,
  meanTtft: 0.1,
};

export function validRecords(tag: string): StoredRecord[] {
  return [
    {
      id: `run-${tag}`,
      kind: 'run',
      createdAt: 1_700_000_000_000,
      title: `run ${tag}`,
      data: {
        type: 'experiment',
        config: defaultConfig(),
        result: {
          description: 'd',
          memory: 16492,
          mode: 'seconds',
          requests: 2,
          costModel: 'a100-llama2-70b-tp2',
          wallMs: 3,
          runs: [
            { policy: 'mcsf', ok: true, summary, cdf: { x: [0, 1], y: [0, 1] }, kv: { x: [0], y: [10] }, wallMs: 1 },
            { policy: 'vllm', ok: false, error: 'stuck', errorName: 'StuckError' },
          ],
        },
      },
    },
    {
      id: `sweep-${tag}`,
      kind: 'run',
      createdAt: 1_700_000_000_001,
      title: `sweep ${tag}`,
      data: {
        type: 'sweep',
        config: defaultConfig(),
        result: { rates: [1, 2], series: [{ policy: 'mcsf', meanLatency: [1, null] }], mode: 'rounds', wallMs: 1 },
      },
    },
    {
      id: `profile-${tag}`,
      kind: 'profile',
      createdAt: 1_700_000_000_002,
      title: `profile ${tag}`,
      data: sampleProfile(),
    },
    { id: `note-${tag}`, kind: 'note', createdAt: 3, title: `note ${tag}`, data: { free: ['form', 1, null] } },
  ];
}

const hostileValues: unknown[] = [
  null,
  0,
  -1,
  1.5,
  2 ** 53,
  -(2 ** 53),
  9e15,
  1e308,
  '',
  'x'.repeat(600),
  '\u001b[31m',
  '<script>alert(1)</script>',
  [],
  {},
  true,
  { __proto__: { polluted: 1 } },
  'NaN',
  'experiment',
  'sweep',
  'profile',
  'run',
  'kvsched.profile/1',
  'kvsched.profile/2',
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function paths(
  x: unknown,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
  depth = 0,
): (string | number)[][] {
  out.push(prefix);
  if (depth > 7 || typeof x !== 'object' || x === null) return out;
  if (Array.isArray(x)) x.slice(0, 3).forEach((v, i) => paths(v, [...prefix, i], out, depth + 1));
  else for (const [k, v] of Object.entries(x)) paths(v, [...prefix, k], out, depth + 1);
  return out;
}

function setPath(root: Json, path: (string | number)[], value: unknown): Json {
  if (path.length === 0) return value as Json;
  let o = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path[path.length - 1] as string | number] = value;
  return root;
}

export interface ImportCase {
  text: string;
  what: string;
}

/** One hostile import file: a mutated bundle (most) or a mutated bare profile. */
export const importCaseArb: fc.Arbitrary<ImportCase> = fc
  .record({
    base: fc.constantFrom('bundle', 'profile'),
    op: fc.constantFrom(
      'set',
      'set',
      'set',
      'delete',
      'truncate',
      'bom',
      'dup-id',
      'same-as-stored',
      'deep',
      'proto',
      'valid',
    ),
    pathPick: fc.nat(),
    value: fc.constantFrom(...hostileValues),
    cut: fc.nat(),
    tag: fc.constantFrom('a', 'b'),
  })
  .map(({ base, op, pathPick, value, cut, tag }): ImportCase => {
    // A deep copy: the sample profile shares objects between calls (mutating one would leak).
    let doc: Json = structuredClone(
      base === 'bundle' ? makeBundle(validRecords(tag), new Date(0)) : sampleProfile(),
    ) as unknown as Json;
    const ps = paths(doc);
    const path = ps[pathPick % ps.length] as (string | number)[];
    let text: string;
    const what = `${base} ${op} ${path.join('.')}`;
    switch (op) {
      case 'set':
        doc = setPath(doc, path, structuredClone(value));
        text = JSON.stringify(doc);
        break;
      case 'delete': {
        if (path.length > 0) {
          let o = doc as Record<string | number, unknown>;
          for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
          if (Array.isArray(o)) o.splice(path[path.length - 1] as number, 1);
          else delete o[path[path.length - 1] as string];
        }
        text = JSON.stringify(doc);
        break;
      }
      case 'truncate': {
        const full = base === 'profile' ? serializeProfile(sampleProfile()) : JSON.stringify(doc);
        text = full.slice(0, cut % full.length);
        break;
      }
      case 'bom':
        text = '\uFEFF' + JSON.stringify(doc);
        break;
      case 'dup-id':
        if (base === 'bundle') {
          const b = doc as { records: Json[] };
          b.records.push(b.records[0] as Json);
        }
        text = JSON.stringify(doc);
        break;
      case 'same-as-stored':
        text = JSON.stringify(makeBundle(validRecords('stored'), new Date(0)));
        break;
      case 'deep': {
        let nest = '1';
        for (let i = 0; i < 5000; i++) nest = `[${nest}]`;
        text = JSON.stringify(doc).replace(/^\{/, `{"deep":${nest},`);
        break;
      }
      case 'proto':
        text = JSON.stringify(doc).replace(
          /^\{/,
          '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},',
        );
        break;
      default:
        text = base === 'profile' ? serializeProfile(sampleProfile()) : JSON.stringify(doc);
    }
    return { text, what };
  });

export interface CountingStore extends ImportWriter {
  count(): Promise<number>;
}

/** Imports one case into `store` and classifies what happened. */
export async function runImportCase(
  c: ImportCase,
  store: CountingStore,
): Promise<{ outcome: ImportOutcome; detail: string }> {
  const before = await store.count();
  let written = -1;
  let rejected = false;
  let detail = '';
  try {
    const parsed = parseImportFile(c.text, 'fuzz.json');
    if (!parsed.ok) {
      rejected = true;
      detail = parsed.error;
    } else {
      const out = await importParsed(parsed, store, { estimate: () => Promise.resolve(undefined) });
      written = out.write.length;
    }
  } catch (e) {
    if (!(e instanceof ImportError)) return { outcome: 'thrown', detail: `${c.what}: ${String(e)}` };
    rejected = true;
    detail = e.message;
  }
  const after = await store.count();
  if (({} as Record<string, unknown>).polluted !== undefined)
    return { outcome: 'thrown', detail: `${c.what}: prototype polluted` };
  if (rejected)
    return after === before
      ? { outcome: 'rejected', detail }
      : { outcome: 'count-changed', detail: `${c.what}: ${before} → ${after}` };
  return after === before + written
    ? { outcome: 'imported', detail: '' }
    : { outcome: 'count-wrong', detail: `${c.what}: ${before} + ${written} ≠ ${after}` };
}

export function importCases(seed: number, n: number): ImportCase[] {
  return fc.sample(importCaseArb, { seed, numRuns: n });
}
