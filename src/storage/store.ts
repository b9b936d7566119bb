/**
 * Records in IndexedDB: list, save, delete, import. Every write is one transaction:
 * a failed write (quota, a value that cannot be stored) rolls back whole and the
 * error says what was not saved; records saved earlier are untouched.
 */
import type { IDBPDatabase } from 'idb';
import { openKvDb } from './db.ts';
import type { KvDb, StoredRecord } from './schema.ts';

/** A write that did not happen. `notSaved` lists the titles of the records it would have written. */
export class SaveError extends Error {
  override name = 'SaveError';
  constructor(
    readonly notSaved: readonly string[],
    readonly reason: string,
    readonly quota: boolean,
  ) {
    super(`Not saved: ${notSaved.map((t) => `"${t}"`).join(', ')} — ${reason}. Records saved earlier are unchanged.`);
  }
}

function reasonOf(e: unknown): { reason: string; quota: boolean } {
  const name = e instanceof Error || e instanceof DOMException ? e.name : '';
  const message = e instanceof Error || e instanceof DOMException ? e.message : String(e);
  if (name === 'QuotaExceededError')
    return {
      reason: "the browser's storage quota for this site is full (delete old runs or export and clear them)",
      quota: true,
    };
  return { reason: `${name || 'error'}: ${message}`, quota: false };
}

/** A record id: kind, time and randomness. */
export function newRecordId(kind: string): string {
  const rnd =
    typeof crypto !== 'undefined' && 'randomUUID' in crypto
      ? crypto.randomUUID().slice(0, 8)
      : Math.random().toString(36).slice(2, 10);
  return `${kind}-${Date.now().toString(36)}-${rnd}`;
}

export class RecordStore {
  private constructor(private readonly db: IDBPDatabase<KvDb>) {}

  static async open(name?: string): Promise<RecordStore> {
    return new RecordStore(await openKvDb(name));
  }

  /** All records, newest first (optionally of one kind). */
  async list(kind?: string): Promise<StoredRecord[]> {
    const all =
      kind === undefined
        ? await this.db.getAllFromIndex('records', 'by-created')
        : await this.db.getAllFromIndex('records', 'by-kind', kind);
    return all.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
  }

  get(id: string): Promise<StoredRecord | undefined> {
    return this.db.get('records', id);
  }

  count(): Promise<number> {
    return this.db.count('records');
  }

  /** Saves one record; throws SaveError (nothing written) when it cannot. */
  async put(record: StoredRecord): Promise<void> {
    await this.putAll([record]);
  }

  /** Saves records in one transaction: all or none. */
  async putAll(records: readonly StoredRecord[]): Promise<void> {
    if (records.length === 0) return;
    let tx;
    try {
      tx = this.db.transaction('records', 'readwrite');
    } catch (e) {
      const { reason, quota } = reasonOf(e);
      throw new SaveError(
        records.map((r) => r.title),
        reason,
        quota,
      );
    }
    const done = tx.done;
    const writes: Promise<unknown>[] = [];
    try {
      for (const r of records) writes.push(tx.store.put(r));
      await Promise.all(writes);
      await done;
    } catch (e) {
      // Requests queued before the failure reject with AbortError once the transaction aborts.
      for (const w of writes) w.catch(() => undefined);
      try {
        tx.abort();
      } catch {
        // already finished or aborted
      }
      await done.catch(() => undefined);
      const { reason, quota } = reasonOf(e instanceof Error || e instanceof DOMException ? e : (tx.error ?? e));
      throw new SaveError(
        records.map((r) => r.title),
        reason,
        quota,
      );
    }
  }

  async delete(id: string): Promise<void> {
    await this.db.delete('records', id);
  }

  /** Deletes exactly these records in one transaction (a record saved since they were listed stays). */
  async deleteMany(ids: readonly string[]): Promise<void> {
    const tx = this.db.transaction('records', 'readwrite');
    await Promise.all([...ids.map((id) => tx.store.delete(id)), tx.done]);
  }

  async clear(): Promise<void> {
    await this.db.clear('records');
  }

  close(): void {
    this.db.close();
  }
}
