/**
 * Storage in real IndexedDB (headless Chromium): schema upgrades keep data, failed
 * writes roll back whole and say what was not saved.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openKvDbV1 } from '../../src/storage/db.ts';
import { DB_VERSION, type StoredRecord } from '../../src/storage/schema.ts';
import { RecordStore, SaveError } from '../../src/storage/store.ts';

const opened: RecordStore[] = [];
const names: string[] = [];

function dbName(): string {
  const n = `kvsched-test-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  names.push(n);
  return n;
}

async function open(name: string): Promise<RecordStore> {
  const s = await RecordStore.open(name);
  opened.push(s);
  return s;
}

afterEach(async () => {
  for (const s of opened.splice(0)) s.close();
  for (const n of names.splice(0)) {
    await new Promise<void>((resolve) => {
      const r = indexedDB.deleteDatabase(n);
      r.onsuccess = r.onerror = r.onblocked = () => resolve();
    });
  }
});

function rec(id: string, createdAt: number, data: unknown = { schema: 'kvsched.profile/1', n: 1 }): StoredRecord {
  return { id, kind: 'profile', createdAt, title: `record ${id}`, data };
}

describe('schema upgrades', () => {
  it('opens data written by schema version 1 intact under the current version', async () => {
    expect(DB_VERSION).toBeGreaterThan(1);
    const name = dbName();
    const v1 = await openKvDbV1(name);
    const runs = [
      {
        id: 'run-a',
        createdAt: 1000,
        title: 'first',
        config: { preset: 'lmsys-high', seed: 1 },
        result: { runs: [{ policy: 'mcsf', ok: true }], wallMs: 5 },
      },
      {
        id: 'run-b',
        createdAt: 2000,
        title: 'second',
        config: { preset: 'lmsys-low', seed: 2 },
        result: { runs: [], wallMs: 1 },
      },
    ];
    for (const r of runs) await v1.put('runs', r);
    v1.close();

    const store = await open(name);
    const all = await store.list();
    expect(all).toEqual([
      {
        id: 'run-b',
        kind: 'run',
        createdAt: 2000,
        title: 'second',
        data: { config: runs[1]?.config, result: runs[1]?.result },
      },
      {
        id: 'run-a',
        kind: 'run',
        createdAt: 1000,
        title: 'first',
        data: { config: runs[0]?.config, result: runs[0]?.result },
      },
    ]);
    // The v2 index works on migrated data.
    expect((await store.list('run')).map((r) => r.id)).toEqual(['run-b', 'run-a']);
    expect(await store.list('profile')).toEqual([]);
  });

  it('creates a fresh database at the current version', async () => {
    const store = await open(dbName());
    await store.put(rec('p1', 5));
    expect(await store.count()).toBe(1);
    expect(await store.get('p1')).toEqual(rec('p1', 5));
  });
});

describe('writes', () => {
  it('a failed write saves nothing of its batch, names what was not saved and keeps earlier records', async () => {
    const store = await open(dbName());
    await store.put(rec('keep', 1));
    const bad = rec('bad', 3, { schema: 'kvsched.profile/1', fn: () => 1 });
    const err = await store.putAll([rec('good', 2), bad]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SaveError);
    const e = err as SaveError;
    expect(e.notSaved).toEqual(['record good', 'record bad']);
    expect(e.message).toContain('Not saved: "record good", "record bad"');
    expect(e.message).toContain('Records saved earlier are unchanged');
    expect((await store.list()).map((r) => r.id)).toEqual(['keep']);
  });

  it('reports a full quota as such, and earlier data stays', async () => {
    const store = await open(dbName());
    await store.put(rec('keep', 1));
    const original = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    let err: unknown;
    try {
      err = await store.put(rec('big', 2)).catch((x: unknown) => x);
    } finally {
      IDBObjectStore.prototype.put = original;
    }
    expect(err).toBeInstanceOf(SaveError);
    expect((err as SaveError).quota).toBe(true);
    expect((err as SaveError).message).toMatch(
      /Not saved: "record big" — the browser's storage quota for this site is full/,
    );
    expect((await store.list()).map((r) => r.id)).toEqual(['keep']);
  });

  it('deletes one record or all of them', async () => {
    const store = await open(dbName());
    await store.putAll([rec('a', 1), rec('b', 2), rec('c', 3)]);
    await store.delete('b');
    expect((await store.list()).map((r) => r.id)).toEqual(['c', 'a']);
    await store.clear();
    expect(await store.count()).toBe(0);
  });
});

describe('chunked imports (real IndexedDB)', () => {
  it('a failing chunk keeps the chunks before it, names what was not saved, and leaves older records', async () => {
    const { importParsed, parseImportFile, ImportError } = await import('../../src/storage/import.ts');
    const { makeBundle } = await import('../../src/storage/bundle.ts');
    const store = await open(dbName());
    await store.put(rec('keep', 1));
    const incoming = Array.from({ length: 6 }, (_, i) => ({
      id: `n${i}`,
      kind: 'note',
      createdAt: 10 + i,
      title: `note ${i}`,
      data: { i },
    }));
    const parsed = parseImportFile(JSON.stringify(makeBundle(incoming)), 'b.json');
    if (!parsed.ok) throw new Error(parsed.error);
    const original = IDBObjectStore.prototype.put;
    let calls = 0;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (++calls > 2) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return original.apply(this, args);
    };
    let err: unknown;
    try {
      err = await importParsed(parsed, store, { chunkCount: 2, estimate: () => Promise.resolve(undefined) }).catch(
        (x: unknown) => x,
      );
    } finally {
      IDBObjectStore.prototype.put = original;
    }
    expect(err).toBeInstanceOf(ImportError);
    const e = err as InstanceType<typeof ImportError>;
    expect(e.saved.map((r) => r.id)).toEqual(['n0', 'n1']);
    expect(e.notSaved.map((r) => r.id)).toEqual(['n2', 'n3', 'n4', 'n5']);
    expect(e.quota).toBe(true);
    expect(e.message).toMatch(/^Imported 2 records \(“note 0”, “note 1”\); not saved: 4 records .* storage quota/);
    expect((await store.list()).map((r) => r.id).sort()).toEqual(['keep', 'n0', 'n1']);
  });
});
