/**
 * Importing records into the store without losing any: a bundle or a bare profile is
 * validated whole, conflicts with stored records are resolved without overwriting, the
 * site's free storage is checked before writing, and the records are written in
 * bounded chunks (one transaction each) so that a failure says exactly what was saved.
 *
 * Conflicts (same id as a stored record):
 * - identical content (kind, createdAt, title, data): skipped, reported as already present;
 * - different content: kept as a new record under a new id, reported as such.
 * A bare profile carries no id: it is already present when a stored profile has the same data.
 */
import { shownText } from '../model/text.ts';
import { parseProfile, ProfileError, type Profile } from '../calibrate/profile.ts';
import { bytesText, MAX_FILE_BYTES } from '../model/limits.ts';
import { parseBundle } from './bundle.ts';
import type { StoredRecord } from './schema.ts';
import { newRecordId, SaveError } from './store.ts';

/** An import file's records; a bare profile's record has `id: null` (assigned when planned). */
export interface ImportRecord extends Omit<StoredRecord, 'id'> {
  id: string | null;
}

export type ParsedImport =
  { ok: true; what: 'bundle' | 'profile'; records: ImportRecord[]; bytes: number } | { ok: false; error: string };

const BOM = '\uFEFF';

/** The title a profile gets when stored (the Calibrate view's naming). */
export function profileTitle(p: Profile): string {
  return `${p.device.name} (${p.preset})`;
}

/** Why a file of `size` bytes is not read at all (larger than an import reads), or null. */
export function importTooLarge(size: number, fileName: string): string | null {
  const max = MAX_FILE_BYTES.bundle;
  return size > max ? `${fileName} is ${bytesText(size)}, more than the ${bytesText(max)} an import reads` : null;
}

/** Parses an import file: a `kvsched.bundle/1` or a bare profile (`kvsched.profile/N`). Never throws. */
export function parseImportFile(raw: string, fileName = 'the file'): ParsedImport {
  const text = raw.startsWith(BOM) ? raw.slice(1) : raw;
  const bytes = new TextEncoder().encode(text).length;
  // Decide by the schema field (a cheap scan would be wrong on nested "schema" keys: parse once).
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return {
      ok: false,
      error: `${fileName} is not JSON: ${shownText(e instanceof Error ? e.message : String(e), 200)}`,
    };
  }
  const schema = typeof json === 'object' && json !== null ? (json as { schema?: unknown }).schema : undefined;
  if (typeof schema === 'string' && schema.startsWith('kvsched.profile/')) {
    try {
      const profile = parseProfile(text, fileName);
      const created = Date.parse(profile.createdAt);
      return {
        ok: true,
        what: 'profile',
        bytes,
        records: [
          {
            id: null,
            kind: 'profile',
            createdAt: Number.isFinite(created) ? created : Date.now(),
            title: profileTitle(profile),
            data: profile,
          },
        ],
      };
    } catch (e) {
      return { ok: false, error: e instanceof ProfileError ? e.message : String(e) };
    }
  }
  const b = parseBundle(text, fileName);
  if (!b.ok) return b;
  return { ok: true, what: 'bundle', bytes, records: b.bundle.records };
}

/** JSON with object keys sorted: equal values give equal text whatever their key order. */
export function canonicalJson(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, o[k]]),
    );
  });
}

function sameContent(a: Omit<StoredRecord, 'id'>, b: Omit<StoredRecord, 'id'>): boolean {
  return (
    canonicalJson([a.kind, a.createdAt, a.title, a.data]) === canonicalJson([b.kind, b.createdAt, b.title, b.data])
  );
}

/** What the store must offer the planner. */
export interface StoreReader {
  get(id: string): Promise<StoredRecord | undefined>;
  list(kind?: string): Promise<StoredRecord[]>;
}

export interface ImportPlan {
  /** To be written (new ids where renamed). */
  write: StoredRecord[];
  /** Identical to a stored record: skipped. */
  present: StoredRecord[];
  /** Same id as a stored record with different content: written under `to`. */
  renamed: { from: string; to: string; title: string }[];
}

/** Resolves every incoming record against the store (nothing is written). */
export async function planImport(
  records: readonly ImportRecord[],
  store: StoreReader,
  newId = newRecordId,
): Promise<ImportPlan> {
  const plan: ImportPlan = { write: [], present: [], renamed: [] };
  let profiles: StoredRecord[] | undefined;
  for (const r of records) {
    if (r.id === null) {
      profiles ??= await store.list(r.kind);
      const twin = profiles.find((p) => canonicalJson(p.data) === canonicalJson(r.data));
      if (twin) plan.present.push(twin);
      else plan.write.push({ ...r, id: newId(r.kind) });
      continue;
    }
    const rec: StoredRecord = { ...r, id: r.id };
    const old = await store.get(rec.id);
    if (!old) plan.write.push(rec);
    else if (sameContent(old, rec)) plan.present.push(old);
    else {
      const to = newId(rec.kind);
      plan.renamed.push({ from: rec.id, to, title: rec.title });
      plan.write.push({ ...rec, id: to });
    }
  }
  return plan;
}

export interface StorageEstimateLike {
  usage?: number;
  quota?: number;
}

/** Bytes an import of `bytes` of JSON is assumed to need: IndexedDB keeps values, indexes and logs beside them. */
export function bytesNeeded(bytes: number): number {
  return 2 * bytes;
}

function mb(x: number): string {
  if (x < 1e3) return `${Math.round(x)} B`;
  return x < 1e6 ? `${(x / 1e3).toFixed(1)} kB` : `${(x / 1e6).toFixed(1)} MB`;
}

/** null when an import of `bytes` fits the estimate (or the browser gives none); otherwise why not, with the numbers. */
export function roomError(bytes: number, est: StorageEstimateLike | undefined): string | null {
  if (!est || est.quota === undefined || est.usage === undefined) return null;
  const free = Math.max(0, est.quota - est.usage);
  const need = bytesNeeded(bytes);
  if (need <= free) return null;
  return (
    `it needs about ${mb(need)} of storage (twice the file's ${mb(bytes)}) but this site has ${mb(free)} free ` +
    `(${mb(est.usage)} used of a ${mb(est.quota)} quota). Free space (delete or export old records) and try again`
  );
}

/** Splits records into chunks of at most `maxBytes` of JSON and `maxCount` records (one record always fits). */
export function chunkRecords(records: readonly StoredRecord[], maxBytes = 4_000_000, maxCount = 500): StoredRecord[][] {
  const chunks: StoredRecord[][] = [];
  let cur: StoredRecord[] = [];
  let size = 0;
  for (const r of records) {
    const n = JSON.stringify(r).length;
    if (cur.length > 0 && (size + n > maxBytes || cur.length >= maxCount)) {
      chunks.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(r);
    size += n;
  }
  if (cur.length > 0) chunks.push(cur);
  return chunks;
}

/** An import that stopped part-way (or before writing): what was and was not saved. */
export class ImportError extends Error {
  override name = 'ImportError';
  constructor(
    message: string,
    readonly saved: readonly StoredRecord[],
    readonly notSaved: readonly StoredRecord[],
    readonly quota: boolean,
  ) {
    super(message);
  }
}

export interface ImportWriter extends StoreReader {
  putAll(records: readonly StoredRecord[]): Promise<void>;
}

export interface ImportOptions {
  /** The storage estimate (defaults to navigator.storage.estimate() where it exists). */
  estimate?: () => Promise<StorageEstimateLike | undefined>;
  chunkBytes?: number;
  chunkCount?: number;
  newId?: (kind: string) => string;
}

export interface ImportOutcome extends ImportPlan {
  what: 'bundle' | 'profile';
}

function defaultEstimate(): Promise<StorageEstimateLike | undefined> {
  const s = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  return s && typeof s.estimate === 'function' ? s.estimate() : Promise.resolve(undefined);
}

function titles(rs: readonly StoredRecord[]): string {
  const shown = rs
    .slice(0, 3)
    .map((r) => `“${r.title}”`)
    .join(', ');
  return rs.length > 3 ? `${shown} and ${rs.length - 3} more` : shown;
}

function plural(n: number, what = 'record'): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/**
 * Plans and writes a parsed import. Throws ImportError when nothing fits (before any
 * write) or when a chunk fails (earlier chunks stay saved; the error lists both sides).
 */
export async function importParsed(
  parsed: Extract<ParsedImport, { ok: true }>,
  store: ImportWriter,
  opts: ImportOptions = {},
): Promise<ImportOutcome> {
  const plan = await planImport(parsed.records, store, opts.newId);
  if (plan.write.length === 0) return { ...plan, what: parsed.what };
  const writeBytes = plan.write.reduce((n, r) => n + JSON.stringify(r).length, 0);
  let est: StorageEstimateLike | undefined;
  try {
    est = await (opts.estimate ?? defaultEstimate)();
  } catch {
    est = undefined; // no estimate: the chunked writes still fail cleanly
  }
  const room = roomError(writeBytes, est);
  if (room !== null) throw new ImportError(`Nothing was imported: ${room}.`, [], plan.write, true);
  const chunks = chunkRecords(plan.write, opts.chunkBytes, opts.chunkCount);
  const saved: StoredRecord[] = [];
  for (const [i, chunk] of chunks.entries()) {
    try {
      await store.putAll(chunk);
    } catch (e) {
      const notSaved = chunks.slice(i).flat();
      const reason = e instanceof SaveError ? e.reason : e instanceof Error ? e.message : String(e);
      const quota = e instanceof SaveError && e.quota;
      const head = saved.length === 0 ? 'Nothing was imported' : `Imported ${plural(saved.length)} (${titles(saved)})`;
      throw new ImportError(
        `${head}; not saved: ${plural(notSaved.length)} (${titles(notSaved)}) — ${reason}. Records stored before are unchanged.`,
        saved,
        notSaved,
        quota,
      );
    }
    saved.push(...chunk);
  }
  return { ...plan, what: parsed.what };
}

/** One line for the user about a finished import. */
export function importSummary(o: ImportOutcome, fileName: string): string {
  const parts: string[] = [];
  const written = o.write.length;
  parts.push(`Imported ${plural(written)} from ${fileName}`);
  if (o.present.length > 0) parts.push(`${plural(o.present.length)} already present (${titles(o.present)}), skipped`);
  if (o.renamed.length > 0) {
    const r = o.renamed
      .slice(0, 3)
      .map((x) => `“${x.title}” (${x.from} → ${x.to})`)
      .join(', ');
    const more = o.renamed.length > 3 ? ` and ${o.renamed.length - 3} more` : '';
    parts.push(
      `${plural(o.renamed.length)} differed from a stored record with the same id and were kept as new records: ${r}${more}`,
    );
  }
  return parts.join('; ') + '.';
}

export type Persistence = 'persistent' | 'best-effort' | 'unsupported';

/**
 * Asks the browser to keep this site's storage under pressure (navigator.storage.persist()).
 * Chromium grants it silently by engagement heuristics; other browsers may ask the user.
 */
export async function requestPersistence(): Promise<Persistence> {
  const s = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!s || typeof s.persist !== 'function') return 'unsupported';
  try {
    if (typeof s.persisted === 'function' && (await s.persisted())) return 'persistent';
    return (await s.persist()) ? 'persistent' : 'best-effort';
  } catch {
    return 'best-effort';
  }
}
