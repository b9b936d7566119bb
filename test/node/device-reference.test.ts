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
  BETWEEN_RUN_SENSITIVITY,
  DEVICE_HISTORY_LENGTH,
  DEVICE_REFERENCES_SCHEMA,
  MAX_ANCHOR_HALF_WIDTH,
  deviceReferenceKey,
  deviceReferenceText,
  deviceReferenceUseSchema,
  deviceScaleOf,
  documentStore,
  emptyDeviceReferences,
  parseDeviceReferences,
  repeatabilityOf,
  repeatabilityText,
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
  const base = {
    key: KEY,
    runRate: 1.8e10,
    createdAt: '2026-12-05T15:00:00.000Z',
    device: 'SwiftShader',
    typicalMicros: 3.5e9,
    typicalHalfWidth: 0.08,
  } as const;
  const entry = (typicalMicros: number, i: number) =>
    ({ at: `2026-12-05T14:0${i}:00.000Z`, typicalMicros, verdict: 'noisy' }) as const;

  it('applies a stored reference, never moves its rate, and adds the run to its history', async () => {
    const store = memoryStore();
    const first = await settleDeviceReference({ ...base, store, anchor: REF, verdict: 'noisy' });
    expect(first).toEqual({
      status: 'applied',
      runRate: 1.8e10,
      rate: REF.rate,
      setAt: REF.setAt,
      sensitivity: BETWEEN_RUN_SENSITIVITY,
    });
    expect(deviceScaleOf(1.8e10, REF.rate)).toBeCloseTo((1.8 / 1.9) ** 0.75, 12);
    const kept = store.get(KEY);
    expect(kept).toEqual({ ...REF, history: [{ at: base.createdAt, typicalMicros: 3.5e9, verdict: 'noisy' }] });
    // The next run is compared with the one before (by the caller, whose verdict reads it), and the profile records it.
    const second = await settleDeviceReference({
      ...base,
      store,
      anchor: kept,
      verdict: 'good',
      typicalMicros: 3.85e9,
      earlier: repeatabilityOf(kept?.history, 3.85e9),
    });
    expect(second?.earlier).toEqual({ runs: 1, medianMicros: 3.5e9, minMicros: 3.5e9, maxMicros: 3.5e9, ratio: 1.1 });
    expect(store.get(KEY)?.history?.map((h) => h.verdict)).toEqual(['noisy', 'good']);
    expect(store.get(KEY)?.rate).toBe(REF.rate);
  });

  it('keeps the last DEVICE_HISTORY_LENGTH calibrations, and none that was unusable', async () => {
    const store = memoryStore();
    const long = { ...REF, history: Array.from({ length: DEVICE_HISTORY_LENGTH }, (_, i) => entry(3e9 + i, i % 10)) };
    await settleDeviceReference({ ...base, store, anchor: long, verdict: 'noisy' });
    const h = store.get(KEY)?.history ?? [];
    expect(h).toHaveLength(DEVICE_HISTORY_LENGTH);
    expect(h[0]?.typicalMicros).toBe(3e9 + 1);
    expect(h.at(-1)?.typicalMicros).toBe(3.5e9);
    const untouched = memoryStore('must not write');
    const use = await settleDeviceReference({ ...base, store: untouched, anchor: long, verdict: 'unusable' });
    expect(use?.status).toBe('applied');
    expect(use?.note).toBeUndefined();
  });

  it('a history that cannot be written leaves the profile applied, with the reason', async () => {
    const use = await settleDeviceReference({ ...base, store: memoryStore('EROFS'), anchor: REF, verdict: 'good' });
    expect(use).toEqual({
      status: 'applied',
      runRate: 1.8e10,
      rate: REF.rate,
      setAt: REF.setAt,
      sensitivity: BETWEEN_RUN_SENSITIVITY,
      note: 'could not add this calibration to its history in memory: EROFS',
    });
  });

  it('compares a run with the median and range of the earlier ones', () => {
    expect(repeatabilityOf(undefined, 1)).toBeUndefined();
    expect(repeatabilityOf([], 1)).toBeUndefined();
    const r = repeatabilityOf([entry(3.4e9, 1), entry(3.7e9, 2), entry(3.5e9, 3), entry(3.6e9, 4)], 3.85e9);
    expect(r).toEqual({ runs: 4, medianMicros: 3.55e9, minMicros: 3.4e9, maxMicros: 3.7e9, ratio: 3.85e9 / 3.55e9 });
  });

  it('stores the run’s own rate when there is none and the calibration is good or noisy; its history starts', async () => {
    for (const verdict of ['good', 'noisy'] as const) {
      const store = memoryStore();
      const use = await settleDeviceReference({ ...base, store, anchor: undefined, verdict });
      expect(use).toEqual({ status: 'stored', runRate: 1.8e10, rate: 1.8e10, setAt: base.createdAt });
      expect(store.get(KEY)).toEqual({
        rate: 1.8e10,
        setAt: base.createdAt,
        device: 'SwiftShader',
        history: [{ at: base.createdAt, typicalMicros: 3.5e9, verdict }],
      });
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

  it(`keeps nothing from a calibration disturbed throughout (interval wider than ±${100 * MAX_ANCHOR_HALF_WIDTH} %)`, async () => {
    const store = memoryStore();
    const use = await settleDeviceReference({
      ...base,
      store,
      anchor: undefined,
      verdict: 'noisy',
      typicalHalfWidth: 0.41,
    });
    expect(use).toEqual({
      status: 'none',
      runRate: 1.8e10,
      note: "this calibration's typical round is known only to ±41 % (the device was busy), so its speed was not kept (the next calibration within ±20 % will set it)",
    });
    expect(store.get(KEY)).toBeUndefined();
    const infinite = await settleDeviceReference({
      ...base,
      store,
      anchor: undefined,
      verdict: 'noisy',
      typicalHalfWidth: Infinity,
    });
    expect(infinite?.note).toMatch(/known only to ±∞ %/);
    // At the limit it is kept; with a reference already stored the rule does not apply (the run joins the history).
    await settleDeviceReference({
      ...base,
      store,
      anchor: undefined,
      verdict: 'noisy',
      typicalHalfWidth: MAX_ANCHOR_HALF_WIDTH,
    });
    expect(store.get(KEY)?.rate).toBe(base.runRate);
    const applied = await settleDeviceReference({
      ...base,
      store,
      anchor: REF,
      verdict: 'noisy',
      typicalHalfWidth: 0.41,
    });
    expect(applied?.status).toBe('applied');
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
    const earlier = { runs: 4, medianMicros: 3.55e9, minMicros: 3.4e9, maxMicros: 3.7e9, ratio: 1.0845 };
    expect(
      deviceReferenceText({
        status: 'applied',
        runRate: 1.71e10,
        rate: 1.9e10,
        setAt: REF.setAt,
        earlier,
        note: 'EROFS',
      }),
    ).toBe(
      "times expressed at this device's stored reference, 19.00 GFLOP/s (set 2026-12-05 14:00 UTC); this run's probe ran at 17.10 GFLOP/s, 0.900× it; typical round 1.085× the median of this device's 4 earlier calibrations here (3,550 s; range 3,400–3,700 s); EROFS",
    );
    expect(repeatabilityText({ ...earlier, runs: 1, medianMicros: 3.4e9, maxMicros: 3.4e9 })).toBe(
      "typical round 1.085× this device's earlier calibration here (3,400 s)",
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
    const earlier = { runs: 0, medianMicros: 1, minMicros: 1, maxMicros: 1, ratio: 1 };
    expect(deviceReferenceUseSchema.safeParse({ status: 'applied', runRate: 1, rate: 2, earlier }).success).toBe(false);
    expect(
      parseDeviceReferences(JSON.stringify({ ...emptyDeviceReferences(), references: { [KEY]: REF } }), 'x'),
    ).toEqual({
      schema: DEVICE_REFERENCES_SCHEMA,
      references: { [KEY]: REF },
    });
    expect(() =>
      parseDeviceReferences(
        JSON.stringify({ ...emptyDeviceReferences(), references: { [KEY]: { ...REF, history: [entry(-1, 1)] } } }),
        'refs.json',
      ),
    ).toThrow(/^refs.json is not a kvsched.device-references\/1 file \(references\..*history\.0\.typicalMicros: /);
  });
});
