/**
 * Device references (src/calibrate/device-reference.ts): the file and the browser stores,
 * what a calibration does with them once its verdict is known, and the line the CLI and the
 * app show (the verdict's shift rule is with the other verdict rules, calibrate-stats).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEVICE_REFERENCES_SCHEMA,
  deviceReferenceKey,
  deviceReferenceText,
  deviceReferenceUseSchema,
  documentStore,
  emptyDeviceReferences,
  parseDeviceReferences,
  settleDeviceReference,
  type DeviceReferenceStore,
} from '../../src/calibrate/device-reference.ts';
import { defaultDeviceReferencePath, openDeviceReferenceFile } from '../../src/calibrate/device-reference-node.ts';
import { browserDeviceReferences, DEVICE_REFERENCES_KEY } from '../../src/app/device-reference.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'kvsched-ref-'));
const REF = { rate: 1.9e10, setAt: '2026-12-05T14:00:00.000Z', device: 'SwiftShader' };
const KEY = deviceReferenceKey('{"vendor":"google"}', 32);

function memoryStore(fail?: string): DeviceReferenceStore {
  return documentStore('memory', emptyDeviceReferences(), () =>
    fail ? Promise.reject(new Error(fail)) : Promise.resolve(),
  );
}

/** A Storage over a Map (Node has no localStorage); setItem throws `throwOnSet` when given. */
function fakeStorage(throwOnSet?: unknown): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => {
      if (throwOnSet !== undefined) throw throwOnSet;
      m.set(k, v);
    },
  };
}

describe('device references file (Node)', () => {
  it('a missing file is empty; a set is written and read back by the next open', async () => {
    const path = join(dir(), 'sub', 'refs.json');
    const a = openDeviceReferenceFile(path);
    expect(a.get(KEY)).toBeUndefined();
    await a.set(KEY, REF);
    expect(a.get(KEY)).toEqual(REF);
    const b = openDeviceReferenceFile(path);
    expect(b.get(KEY)).toEqual(REF);
    expect(JSON.parse(readFileSync(path, 'utf8')).schema).toBe(DEVICE_REFERENCES_SCHEMA);
    // Another key keeps the first.
    await b.set('other', { ...REF, rate: 1 });
    expect(openDeviceReferenceFile(path).get(KEY)).toEqual(REF);
  });

  it('refuses a file that is not JSON or not a references file, in one line, and leaves it as it was', () => {
    const d = dir();
    const bad = join(d, 'bad.json');
    writeFileSync(bad, '{not json');
    expect(() => openDeviceReferenceFile(bad)).toThrow(/^device references .*bad\.json is not valid JSON \(/);
    const other = join(d, 'other.json');
    writeFileSync(other, JSON.stringify({ schema: 'kvsched.profile/2' }));
    expect(() => openDeviceReferenceFile(other)).toThrow(/is not a kvsched\.device-references\/1 file \(schema: .*\)$/);
    const negative = join(d, 'neg.json');
    writeFileSync(
      negative,
      JSON.stringify({ schema: DEVICE_REFERENCES_SCHEMA, references: { k: { rate: -1, setAt: 'x' } } }),
    );
    expect(() => openDeviceReferenceFile(negative)).toThrow(/references\.k\.rate/);
    expect(readFileSync(bad, 'utf8')).toBe('{not json');
    for (const f of [bad, other, negative]) expect(() => openDeviceReferenceFile(f)).toThrow(/^[^\n]+$/);
  });

  it('a write that fails rejects with the reason and keeps the stored references', async () => {
    const d = dir();
    const path = join(d, 'refs.json');
    const s = openDeviceReferenceFile(path);
    await s.set(KEY, REF);
    // Running as root ignores permissions: make the temporary file's name a directory instead.
    mkdirSync(`${path}.${process.pid}.tmp`);
    await expect(s.set('other', REF)).rejects.toThrow(/EISDIR|EEXIST|EPERM/);
    expect(s.get('other')).toBeUndefined();
    expect(openDeviceReferenceFile(path).get(KEY)).toEqual(REF);
  });

  it('the default file: $KVSCHED_STATE_DIR, else $XDG_STATE_HOME/kvsched, else ~/.local/state/kvsched', () => {
    expect(defaultDeviceReferencePath({ KVSCHED_STATE_DIR: '/s', XDG_STATE_HOME: '/x' })).toBe(
      '/s/device-references.json',
    );
    expect(defaultDeviceReferencePath({ XDG_STATE_HOME: '/x' })).toBe('/x/kvsched/device-references.json');
    expect(defaultDeviceReferencePath({})).toMatch(/\.local\/state\/kvsched\/device-references\.json$/);
  });

  it('keys a device by its adapter and its reference probe', () => {
    expect(deviceReferenceKey('{"a":1}', 32)).not.toBe(deviceReferenceKey('{"a":1}', 1024));
    expect(deviceReferenceKey('{"a":1}', 32)).not.toBe(deviceReferenceKey('{"a":2}', 32));
  });
});

describe('device references in the browser (localStorage)', () => {
  it('round-trips through the storage, in the same document as the file', async () => {
    const st = fakeStorage();
    await browserDeviceReferences(st).set(KEY, REF);
    expect(browserDeviceReferences(st).get(KEY)).toEqual(REF);
    expect(parseDeviceReferences(st.getItem(DEVICE_REFERENCES_KEY) ?? '', 'x').references[KEY]).toEqual(REF);
  });

  it('refuses an unreadable entry and names the way out; "new device reference" replaces it', async () => {
    const st = fakeStorage();
    st.setItem(DEVICE_REFERENCES_KEY, 'garbage');
    expect(() => browserDeviceReferences(st)).toThrow(/not valid JSON .*tick "New device reference" to replace it$/);
    expect(st.getItem(DEVICE_REFERENCES_KEY)).toBe('garbage');
    const s = browserDeviceReferences(st, true);
    expect(s.get(KEY)).toBeUndefined();
    await s.set(KEY, REF);
    expect(browserDeviceReferences(st).get(KEY)).toEqual(REF);
  });

  it('a full quota is said as such', async () => {
    const st = fakeStorage(new DOMException('full', 'QuotaExceededError'));
    await expect(browserDeviceReferences(st).set(KEY, REF)).rejects.toThrow(
      "the browser's storage quota for this site is full",
    );
  });
});

describe('what a calibration does with the device reference', () => {
  const base = { key: KEY, runRate: 1.8e10, createdAt: '2026-12-05T15:00:00.000Z', device: 'SwiftShader' } as const;

  it('applies a stored reference and never rewrites it', async () => {
    const store = memoryStore('must not write');
    const use = await settleDeviceReference({ ...base, store, anchor: REF, verdict: 'noisy' });
    expect(use).toEqual({ status: 'applied', runRate: 1.8e10, rate: REF.rate, setAt: REF.setAt });
  });

  it('stores the run’s own rate when there is none and the calibration is good or noisy', async () => {
    for (const verdict of ['good', 'noisy'] as const) {
      const store = memoryStore();
      const use = await settleDeviceReference({ ...base, store, anchor: undefined, verdict });
      expect(use).toEqual({ status: 'stored', runRate: 1.8e10, rate: 1.8e10, setAt: base.createdAt });
      expect(store.get(KEY)).toEqual({ rate: 1.8e10, setAt: base.createdAt, device: 'SwiftShader' });
    }
  });

  it('keeps nothing from an unusable calibration, and says so', async () => {
    const store = memoryStore();
    const use = await settleDeviceReference({ ...base, store, anchor: undefined, verdict: 'unusable' });
    expect(use).toEqual({
      status: 'none',
      runRate: 1.8e10,
      note: "this calibration is unusable, so its speed was not kept (the next usable calibration's will be)",
    });
    expect(store.get(KEY)).toBeUndefined();
  });

  it('a store that cannot be written leaves the profile at its own rate, with the reason', async () => {
    const use = await settleDeviceReference({
      ...base,
      store: memoryStore('ENOSPC: no space left on device'),
      anchor: undefined,
      verdict: 'good',
    });
    expect(use).toEqual({
      status: 'none',
      runRate: 1.8e10,
      note: 'could not store it in memory: ENOSPC: no space left on device',
    });
  });

  it('without a store (or a drift normalisation) there is nothing to say', async () => {
    expect(await settleDeviceReference({ ...base, store: undefined, anchor: REF, verdict: 'good' })).toBeNull();
    expect(
      await settleDeviceReference({ ...base, store: memoryStore(), anchor: REF, verdict: 'good', runRate: undefined }),
    ).toBeNull();
  });

  it('is described in one line for each case', () => {
    expect(deviceReferenceText({ status: 'applied', runRate: 1.71e10, rate: 1.9e10, setAt: REF.setAt })).toBe(
      "times expressed at this device's stored reference, 19.00 GFLOP/s (set 2026-12-05 14:00 UTC); this run's probe ran at 17.10 GFLOP/s, 0.900× it",
    );
    expect(deviceReferenceText({ status: 'stored', runRate: 1.9e10, rate: 1.9e10, setAt: REF.setAt })).toBe(
      "none was stored; this run's 19.00 GFLOP/s is now this device's reference",
    );
    expect(deviceReferenceText({ status: 'none', runRate: 1.9e10, note: 'why' })).toBe('none stored yet; why');
  });

  it('the profile records it with a known status only', () => {
    expect(deviceReferenceUseSchema.safeParse({ status: 'applied', runRate: 1, rate: 2, setAt: 'x' }).success).toBe(
      true,
    );
    expect(deviceReferenceUseSchema.safeParse({ status: 'guessed', runRate: 1 }).success).toBe(false);
    expect(deviceReferenceUseSchema.safeParse({ status: 'applied', runRate: 1, rate: 0 }).success).toBe(false);
  });
});
