/** Lazily opened app services shared by views (storage). */
import type { RecordStore } from '../storage/store.ts';

let store: Promise<RecordStore> | undefined;

/** The app's record store (IndexedDB `kvsched`), opened on first use. */
export function getStore(): Promise<RecordStore> {
  store ??= import('../storage/store.ts')
    .then((m) => m.RecordStore.open())
    .catch((e: unknown) => {
      store = undefined;
      throw e;
    });
  return store;
}
