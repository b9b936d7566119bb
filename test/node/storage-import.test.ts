/** Imports: bundle or bare profile, conflicts never overwrite, room check, chunked writes that say what was saved. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { defaultConfig, type ExperimentConfig } from '../../src/app/config.ts';
import { serializeProfile } from '../../src/calibrate/profile.ts';
import { makeBundle, parseBundle, runData } from '../../src/storage/bundle.ts';
import {
  chunkRecords,
  importParsed,
  ImportError,
  importSummary,
  importTooLarge,
  parseImportFile,
  planImport,
  roomError,
  type ImportWriter,
} from '../../src/storage/import.ts';
import type { experimentConfigSchema } from '../../src/storage/run-config.ts';
import type { StoredRecord } from '../../src/storage/schema.ts';
import { SaveError } from '../../src/storage/store.ts';
import { sampleProfile } from './helpers/profile.ts';

class MemStore implements ImportWriter {
  readonly map = new Map<string, StoredRecord>();
  writes = 0;
  failOnWrite: number | null = null;
  constructor(rs: StoredRecord[] = []) {
    for (const r of rs) this.map.set(r.id, structuredClone(r));
  }
  get(id: string): Promise<StoredRecord | undefined> {
    return Promise.resolve(this.map.get(id));
  }
  list(kind?: string): Promise<StoredRecord[]> {
    return Promise.resolve([...this.map.values()].filter((r) => kind === undefined || r.kind === kind));
  }
  putAll(rs: readonly StoredRecord[]): Promise<void> {
    this.writes++;
    if (this.failOnWrite === this.writes)
      return Promise.reject(
        new SaveError(
          rs.map((r) => r.title),
          'the quota is full',
          true,
        ),
      );
    for (const r of rs) this.map.set(r.id, structuredClone(r));
    return Promise.resolve();
  }
}

const note = (id: string, n = 1, title = `note ${id}`): StoredRecord => ({
  id,
  kind: 'note',
  createdAt: 1000 + n,
  title,
  data: { n },
});
let counter = 0;
const newId = (kind: string) => `${kind}-new-${++counter}`;

function parsedOf(text: string) {
  const p = parseImportFile(text, 'in.json');
  if (!p.ok) throw new Error(p.error);
  return p;
}

describe('import files', () => {
  it('accepts a bare profile as well as a bundle, with or without a UTF-8 BOM', () => {
    const prof = parseImportFile('\uFEFF' + serializeProfile(sampleProfile()), 'p.json');
    expect(prof.ok && prof.what).toBe('profile');
    if (prof.ok)
      expect(prof.records).toEqual([expect.objectContaining({ id: null, kind: 'profile', data: sampleProfile() })]);
    const b = parseImportFile('\uFEFF' + JSON.stringify(makeBundle([note('a')])), 'b.json');
    expect(b.ok && b.what).toBe('bundle');
  });

  it('refuses a newer profile schema, a bad profile and unknown schemas with a reason', () => {
    const newer = parseImportFile(JSON.stringify({ ...sampleProfile(), schema: 'kvsched.profile/99' }), 'p.json');
    expect(!newer.ok && newer.error).toMatch(/p\.json: schema: kvsched\.profile\/99 is newer/);
    const bad = parseImportFile(JSON.stringify({ ...sampleProfile(), fit: 3 }), 'p.json');
    expect(!bad.ok && bad.error).toMatch(/p\.json: fit: expected object/);
    const other = parseImportFile(JSON.stringify({ schema: 'x/1' }), 'o.json');
    expect(!other.ok && other.error).toMatch(/expected "kvsched\.bundle\/1"/);
  });

  it('rejects runs whose config is empty or mistyped, naming the record and the field', () => {
    const run = (config: unknown): StoredRecord => ({
      id: 'run-x',
      kind: 'run',
      createdAt: 1,
      title: 'r',
      data: { type: 'sweep', config, result: { rates: [1], series: [], mode: 'rounds', wallMs: 1 } },
    });
    expect(parseBundle(JSON.stringify(makeBundle([run({ ...defaultConfig() })]))).ok).toBe(true);
    const empty = parseBundle(JSON.stringify(makeBundle([run({})])));
    expect(!empty.ok && empty.error).toMatch(/records\[0\] \(id "run-x"\)\.data\.config\.preset/);
    const typo = parseBundle(JSON.stringify(makeBundle([run({ ...defaultConfig(), policies: 'mcsf' })])));
    expect(!typo.ok && typo.error).toMatch(/data\.config\.policies: Invalid input: expected array/);
    expect(typo.ok || typo.error).not.toMatch(/data: Invalid input$/);
  });

  it('never says only "data: Invalid input" about a run', () => {
    const bad: StoredRecord = {
      id: 'r',
      kind: 'run',
      createdAt: 1,
      title: 't',
      data: { type: 'experiment', config: defaultConfig(), result: { runs: [{ ok: true }] } },
    };
    const r = parseBundle(JSON.stringify(makeBundle([bad])));
    expect(!r.ok && r.error).toMatch(/data\.result\.description/);
    const result = {
      description: 'd',
      memory: 10,
      mode: 'rounds',
      requests: 1,
      costModel: 'c',
      wallMs: 1,
      runs: [{ ok: true }],
    };
    const r2 = parseBundle(
      JSON.stringify(makeBundle([{ ...bad, data: { type: 'experiment', config: defaultConfig(), result } }])),
    );
    expect(!r2.ok && r2.error).toMatch(/data\.result\.runs\[0\]\.policy/);
  });

  it('rejects JSON that is not an object without throwing (found by the import fuzzer)', () => {
    for (const text of ['null', '1', '"x"', '[]']) {
      const r = parseImportFile(text, 'n.json');
      expect(r.ok).toBe(false);
    }
  });

  it('refuses a createdAt beyond what a Date can show', () => {
    const r = parseBundle(JSON.stringify(makeBundle([{ ...note('a'), createdAt: 9e15 }])));
    expect(!r.ok && r.error).toMatch(/createdAt: Too big/);
  });

  it('the stored run config type is the app ExperimentConfig (one contract)', () => {
    expectTypeOf<z.infer<typeof experimentConfigSchema>>().toEqualTypeOf<ExperimentConfig>();
    expect(
      runData.safeParse({
        type: 'sweep',
        config: defaultConfig(),
        result: { rates: [], series: [], mode: 'rounds', wallMs: 0 },
      }).success,
    ).toBe(true);
  });
});

describe('file size', () => {
  it('an import does not read a file beyond the cap', () => {
    expect(importTooLarge(300 * 2 ** 20, 'b.json')).toBe('b.json is 300 MiB, more than the 256 MiB an import reads');
    expect(importTooLarge(1000, 'b.json')).toBeNull();
  });
});

describe('conflicts', () => {
  it('skips identical records, keeps a different one under a new id, never overwrites', async () => {
    const store = new MemStore([note('a', 1), note('b', 2)]);
    const incoming = [note('a', 1), note('b', 3, 'changed b'), note('c', 4)];
    const out = await importParsed(parsedOf(JSON.stringify(makeBundle(incoming))), store, { newId });
    expect(out.present.map((r) => r.id)).toEqual(['a']);
    expect(out.renamed).toEqual([{ from: 'b', to: expect.stringMatching(/^note-new-/), title: 'changed b' }]);
    expect(store.map.get('b')).toEqual(note('b', 2));
    const renamed = store.map.get(out.renamed[0]?.to ?? '');
    expect(renamed).toEqual({ ...note('b', 3, 'changed b'), id: out.renamed[0]?.to });
    expect(store.map.size).toBe(4);
    const text = importSummary(out, 'in.json');
    expect(text).toContain('Imported 2 records from in.json');
    expect(text).toContain('1 record already present (“note a”), skipped');
    expect(text).toMatch(
      /1 record differed from a stored record with the same id and were kept as new records: “changed b” \(b → note-new-\d+\)/,
    );
  });

  it('key order does not make content different', async () => {
    const store = new MemStore([{ ...note('a'), data: { x: 1, y: { p: 1, q: 2 } } }]);
    const plan = await planImport([{ ...note('a'), data: { y: { q: 2, p: 1 }, x: 1 } }], store, newId);
    expect(plan.present).toHaveLength(1);
    expect(plan.write).toHaveLength(0);
  });

  it('a bare profile round-trips and re-importing it says it was already there', async () => {
    const store = new MemStore();
    const text = serializeProfile(sampleProfile());
    const first = await importParsed(parsedOf(text), store, { newId });
    expect(first.write).toHaveLength(1);
    const stored = [...store.map.values()];
    expect(stored[0]?.data).toEqual(sampleProfile());
    const again = await importParsed(parsedOf(text), store, { newId });
    expect(again.write).toHaveLength(0);
    expect(importSummary(again, 'p.json')).toMatch(/Imported 0 records from p\.json; 1 record already present/);
    // Exported from History as a bundle and imported again: already there too.
    const back = await importParsed(parsedOf(JSON.stringify(makeBundle(stored))), store, { newId });
    expect(back.present).toHaveLength(1);
    expect(store.map.size).toBe(1);
  });
});

describe('room and chunks', () => {
  it('refuses before writing when the estimate says it will not fit, with the numbers', async () => {
    const store = new MemStore([note('keep')]);
    const big = Array.from({ length: 20 }, (_, i) => ({ ...note(`n${i}`), data: { s: 'x'.repeat(1000) } }));
    const err = await importParsed(parsedOf(JSON.stringify(makeBundle(big))), store, {
      estimate: () => Promise.resolve({ usage: 990_000, quota: 1_000_000 }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect((err as Error).message).toMatch(
      /^Nothing was imported: it needs about 4\d\.\d kB of storage \(twice the file.s 2\d\.\d kB\) but this site has 10\.0 kB free \(990\.0 kB used of a 1\.0 MB quota\)/,
    );
    expect(store.writes).toBe(0);
    expect(roomError(100, { usage: 0, quota: 1000 })).toBeNull();
    expect(roomError(100, undefined)).toBeNull();
  });

  it('writes in bounded chunks; a failing chunk reports what was and was not saved', async () => {
    const rs = Array.from({ length: 10 }, (_, i) => note(`n${i}`, i));
    expect(chunkRecords(rs, 1e9, 3).map((c) => c.length)).toEqual([3, 3, 3, 1]);
    expect(chunkRecords(rs, 1, 100).map((c) => c.length)).toEqual(Array(10).fill(1));
    const store = new MemStore();
    store.failOnWrite = 2;
    const err = await importParsed(parsedOf(JSON.stringify(makeBundle(rs))), store, {
      chunkCount: 4,
      estimate: () => Promise.resolve(undefined),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    const e = err as ImportError;
    expect(e.saved.map((r) => r.id)).toEqual(['n0', 'n1', 'n2', 'n3']);
    expect(e.notSaved).toHaveLength(6);
    expect(e.quota).toBe(true);
    expect(e.message).toMatch(
      /^Imported 4 records \(“note n0”, “note n1”, “note n2” and 1 more\); not saved: 6 records .* — the quota is full\. Records stored before are unchanged\.$/,
    );
    expect(store.map.size).toBe(4);
  });
});
