/**
 * Import fuzzing in Chromium against the real IndexedDB (test/fuzz/imports.ts): a
 * rejected file leaves the record count unchanged, an accepted one adds exactly what it
 * wrote, nothing else happens. VITE_FUZZ_RUNS sets the number of cases (default 200;
 * `npm run fuzz` runs more and reads the counts this prints).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RecordStore } from '../../src/storage/store.ts';
import { IMPORT_ALLOWED, importCases, runImportCase, validRecords, type ImportOutcome } from '../fuzz/imports.ts';

const name = `kvsched-fuzz-${Date.now()}`;
let store: RecordStore | undefined;

afterAll(async () => {
  store?.close();
  await new Promise<void>((resolve) => {
    const r = indexedDB.deleteDatabase(name);
    r.onsuccess = r.onerror = r.onblocked = () => resolve();
  });
});

describe('import fuzzing (IndexedDB)', () => {
  it('rejections change nothing; imports add exactly what they report', async () => {
    const runs = Number(import.meta.env.VITE_FUZZ_RUNS ?? 200);
    store = await RecordStore.open(name);
    await store.putAll(validRecords('stored'));
    const counts: Record<ImportOutcome, number> = {
      rejected: 0,
      imported: 0,
      thrown: 0,
      'count-changed': 0,
      'count-wrong': 0,
    };
    const findings: string[] = [];
    for (const c of importCases(29, runs)) {
      const r = await runImportCase(c, store);
      counts[r.outcome]++;
      if (!IMPORT_ALLOWED.includes(r.outcome)) findings.push(`${r.outcome}: ${r.detail}`);
    }
    console.log(`FUZZ-IMPORT-COUNTS ${JSON.stringify({ cases: runs, counts })}`);
    expect(findings).toEqual([]);
    expect(counts.rejected).toBeGreaterThan(0);
    expect(counts.imported).toBeGreaterThan(0);
  }, 600_000);
});
