/**
 * Opening the database and the versioned upgrades (see ./schema.ts).
 */
import { openDB, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { DB_NAME, DB_VERSION, type KvDb, type KvDbV1, type StoredRecord, type V1Run } from './schema.ts';

type AnyTx = IDBPTransaction<unknown, ArrayLike<StoreNames<unknown>>, 'versionchange'>;

function upgradeToV1(db: IDBPDatabase<KvDbV1>): void {
  const runs = db.createObjectStore('runs', { keyPath: 'id' });
  runs.createIndex('by-created', 'createdAt');
}

/** v2: the generic `records` store; moves every v1 run into it (the v1 store exists here: a fresh database was just given it). */
async function upgradeToV2(db: IDBPDatabase<unknown>, tx: AnyTx): Promise<void> {
  const v2 = db as unknown as IDBPDatabase<KvDb>;
  const records = v2.createObjectStore('records', { keyPath: 'id' });
  records.createIndex('by-kind', 'kind');
  records.createIndex('by-created', 'createdAt');
  const oldStore = (tx as unknown as IDBPTransaction<KvDbV1, ['runs'], 'versionchange'>).objectStore('runs');
  const newStore = (tx as unknown as IDBPTransaction<KvDb, ['records'], 'versionchange'>).objectStore('records');
  for (let cursor = await oldStore.openCursor(); cursor; cursor = await cursor.continue()) {
    const run: V1Run = cursor.value;
    const record: StoredRecord = {
      id: run.id,
      kind: 'run',
      createdAt: run.createdAt,
      title: run.title,
      data: { config: run.config, result: run.result },
    };
    await newStore.put(record);
  }
  db.deleteObjectStore('runs' as never);
}

/** Opens (creating or upgrading as needed) the current-version database. */
export async function openKvDb(name: string = DB_NAME): Promise<IDBPDatabase<KvDb>> {
  const db = await openDB<unknown>(name, DB_VERSION, {
    upgrade(raw, oldVersion, _newVersion, tx) {
      if (oldVersion < 1) upgradeToV1(raw as unknown as IDBPDatabase<KvDbV1>);
      // idb does not wait for this callback: the copy's own requests keep the versionchange
      // transaction open, and a failed copy aborts it, so the open rejects and v1 stays.
      if (oldVersion < 2) {
        upgradeToV2(raw, tx as AnyTx).catch(() => {
          try {
            tx.abort();
          } catch {
            // already finished or aborted: the open reports the failure
          }
        });
      }
    },
    blocked() {
      console.warn('kvsched: a database upgrade waits for another tab to close');
    },
  });
  return db as unknown as IDBPDatabase<KvDb>;
}

/** Opens the database at schema version 1 (for migration tests: writes what an old build wrote). */
export async function openKvDbV1(name: string = DB_NAME): Promise<IDBPDatabase<KvDbV1>> {
  return openDB<KvDbV1>(name, 1, {
    upgrade(db) {
      upgradeToV1(db);
    },
  });
}
