/**
 * The IndexedDB schema, by version. Every upgrade keeps all data.
 *
 * - v1: object store `runs` (keyPath `id`, index `by-created`): one experiment run per
 *   value, `{ id, createdAt, title, config, result }`.
 * - v2: one generic object store `records` (keyPath `id`, indexes `by-kind` and
 *   `by-created`) holding `{ id, kind, createdAt, title, data }`, so that runs,
 *   calibration profiles (`kind: 'profile'`) and future kinds live side by side. The
 *   upgrade moves every v1 run into `records` as `kind: 'run'`, `data: { config,
 *   result }`, then drops `runs`.
 */
import type { DBSchema } from 'idb';

export const DB_NAME = 'kvsched';
export const DB_VERSION = 2;

/** A stored record (v2+). `data` is plain JSON; its shape depends on `kind`. */
export interface StoredRecord {
  id: string;
  /** `run` (an experiment or sweep), `profile` (a calibration profile, schema kvsched.profile/1), … */
  kind: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  title: string;
  data: unknown;
}

/** A v1 value of the `runs` store. */
export interface V1Run {
  id: string;
  createdAt: number;
  title: string;
  config: unknown;
  result: unknown;
}

export interface KvDbV1 extends DBSchema {
  runs: { key: string; value: V1Run; indexes: { 'by-created': number } };
}

export interface KvDb extends DBSchema {
  records: { key: string; value: StoredRecord; indexes: { 'by-kind': string; 'by-created': number } };
}
