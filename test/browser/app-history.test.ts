/**
 * The History view in Chromium against the real IndexedDB: imports (bundle or bare
 * profile, conflicts, room check), errors that stay visible, "Delete all" of what was
 * listed, runs that cannot be opened, dates and persistence shown.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import '../../src/app/components/kv-history-view.ts';
import type { KvHistoryView } from '../../src/app/components/kv-history-view.ts';
import { defaultConfig } from '../../src/app/config.ts';
import { getStore } from '../../src/app/services.ts';
import { serializeProfile } from '../../src/calibrate/profile.ts';
import { makeBundle } from '../../src/storage/bundle.ts';
import type { StoredRecord } from '../../src/storage/schema.ts';
import { RecordStore } from '../../src/storage/store.ts';
import { sampleProfile } from '../node/helpers/profile.ts';

const note = (id: string, n = 1): StoredRecord => ({
  id,
  kind: 'note',
  createdAt: 1000 + n,
  title: `note ${id}`,
  data: { n },
});

let view: KvHistoryView;

async function mount(): Promise<KvHistoryView> {
  const el = document.createElement('kv-history-view') as KvHistoryView;
  document.body.append(el);
  await vi.waitFor(() => expect(el.records).toBeDefined());
  await el.updateComplete;
  return el;
}

function q(sel: string): HTMLElement | null {
  return view.shadowRoot?.querySelector<HTMLElement>(sel) ?? null;
}

async function importText(text: string, name = 'in.json'): Promise<void> {
  const input = q('[data-testid=import]') as HTMLInputElement;
  const dt = new DataTransfer();
  dt.items.add(new File([text], name, { type: 'application/json' }));
  input.files = dt.files;
  // The view clears both messages synchronously on change, then sets one when done.
  input.dispatchEvent(new Event('change'));
  await vi.waitFor(() => expect(view.status ?? view.error).toBeDefined());
  await vi.waitFor(() => expect(view.records).toBeDefined());
  await view.updateComplete;
}

beforeEach(async () => {
  await (await getStore()).clear();
});

afterEach(() => {
  vi.restoreAllMocks();
  view?.remove();
});

describe('History import', () => {
  it('imports a bare profile; importing it again says it is already there', async () => {
    view = await mount();
    const text = serializeProfile(sampleProfile());
    await importText(text, 'p.json');
    expect(q('[data-testid=history-status]')?.textContent).toContain('Imported 1 record from p.json');
    expect(await (await getStore()).count()).toBe(1);
    await importText('\uFEFF' + text, 'p2.json');
    expect(q('[data-testid=history-status]')?.textContent).toMatch(
      /Imported 0 records from p2\.json; 1 record already present/,
    );
    expect(await (await getStore()).count()).toBe(1);
  });

  it('never overwrites a stored record that has the same id', async () => {
    const store = await getStore();
    await store.put(note('a', 1));
    view = await mount();
    await importText(JSON.stringify(makeBundle([{ ...note('a', 2), title: 'other a' }])));
    expect(q('[data-testid=history-status]')?.textContent).toMatch(/kept as new records: “other a” \(a → note-/);
    expect(await store.get('a')).toEqual(note('a', 1));
    expect(await store.count()).toBe(2);
  });

  it('refuses an import that the storage estimate says will not fit, and stores nothing', async () => {
    await (await getStore()).put(note('keep'));
    view = await mount();
    vi.spyOn(navigator.storage, 'estimate').mockResolvedValue({ usage: 1_000_000, quota: 1_000_100 });
    await importText(JSON.stringify(makeBundle([note('x'), note('y')])));
    expect(q('[data-testid=history-error]')?.textContent).toMatch(
      /Nothing was imported: it needs about .* but this site has 100 B free/,
    );
    expect(await (await getStore()).count()).toBe(1);
  });

  it('keeps the import error visible when reading the list fails afterwards', async () => {
    view = await mount();
    vi.spyOn(RecordStore.prototype, 'putAll').mockRejectedValue(new DOMException('quota', 'QuotaExceededError'));
    vi.spyOn(RecordStore.prototype, 'list').mockRejectedValue(
      new DOMException('GET_NEW_VERSION_NUMBER', 'UnknownError'),
    );
    await importText(JSON.stringify(makeBundle([note('x')])));
    await vi.waitFor(() => expect(q('[data-testid=history-read-error]')).not.toBeNull());
    expect(q('[data-testid=history-error]')?.textContent).toMatch(
      /^Nothing was imported; not saved: 1 record \(“note x”\)/,
    );
    expect(q('[data-testid=history-read-error]')?.textContent).toContain('Could not read the stored records');
  });
});

describe('History list', () => {
  it('"Delete all" deletes what was listed, not a record saved since by another tab', async () => {
    const store = await getStore();
    await store.putAll([note('a'), note('b')]);
    view = await mount();
    q('[data-testid=clear]')?.click();
    await view.updateComplete;
    // Another tab saves a record while the confirmation is shown.
    const other = await RecordStore.open();
    await other.put(note('new', 9));
    other.close();
    q('[data-testid=confirm-clear]')?.click();
    await vi.waitFor(() => expect(view.status).toMatch(/Deleted the 2 listed records/));
    expect((await store.list()).map((r) => r.id)).toEqual(['new']);
  });

  it('"Open" on a stored run with an invalid config says why instead of throwing', async () => {
    const store = await getStore();
    const result = { rates: [1], series: [], mode: 'rounds', wallMs: 1 };
    await store.put({
      id: 'run-bad',
      kind: 'run',
      createdAt: 5,
      title: 'bad run',
      data: { type: 'sweep', config: {}, result },
    });
    await store.put({
      id: 'run-typo',
      kind: 'run',
      createdAt: 6,
      title: 'typo run',
      data: { type: 'sweep', config: { ...defaultConfig(), policies: 7 }, result },
    });
    view = await mount();
    const errors: unknown[] = [];
    const onErr = (e: ErrorEvent) => errors.push(e.error);
    window.addEventListener('error', onErr);
    try {
      for (const [id, why] of [
        ['run-bad', /config\.preset/],
        ['run-typo', /config\.policies/],
      ] as const) {
        const btn = [...(q(`tr[data-id=${id}]`)?.querySelectorAll('button') ?? [])].find(
          (b) => b.textContent === 'Open',
        );
        btn?.click();
        await view.updateComplete;
        expect(q('[data-testid=history-error]')?.textContent).toMatch(why);
      }
    } finally {
      window.removeEventListener('error', onErr);
    }
    expect(errors).toEqual([]);
  });

  it('shows an invalid date instead of NaN, wraps long titles and says whether storage is persistent', async () => {
    const store = await getStore();
    await store.put({ ...note('huge'), createdAt: 9e15, title: 'x'.repeat(400) });
    view = await mount();
    const row = q('tr[data-id=huge]');
    expect(row?.textContent).not.toContain('NaN');
    expect(row?.textContent).toContain('invalid date');
    const title = row?.querySelector('.title') as HTMLElement;
    expect(getComputedStyle(title).overflowWrap).toBe('anywhere');
    expect(title.getBoundingClientRect().width).toBeLessThan(600);
    await vi.waitFor(() =>
      expect(q('[data-testid=history-persistence]')?.dataset.persistence).toMatch(
        /^(persistent|best-effort|unsupported)$/,
      ),
    );
  });
});
