/**
 * Device references in a JSON file (Node: the CLI and the benches; ./device-reference.ts
 * says what they are). The default file is per user and machine:
 * $KVSCHED_STATE_DIR/device-references.json, else $XDG_STATE_HOME/kvsched/…, else
 * ~/.local/state/kvsched/…. It is written to a temporary file beside it and renamed over it,
 * so an interrupted write never leaves half a file; a file that is not a references file is
 * refused with a one-line error and never overwritten.
 */
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  documentStore,
  emptyDeviceReferences,
  parseDeviceReferences,
  type DeviceReferenceStore,
} from './device-reference.ts';

export const DEVICE_REFERENCES_FILE = 'device-references.json';

/** The default references file of this user on this machine. */
export function defaultDeviceReferencePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KVSCHED_STATE_DIR) return join(env.KVSCHED_STATE_DIR, DEVICE_REFERENCES_FILE);
  const state = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(state, 'kvsched', DEVICE_REFERENCES_FILE);
}

/** Opens (reads; a missing file is an empty one) a references file. Throws a one-line error when it is not one. */
export function openDeviceReferenceFile(path: string): DeviceReferenceStore {
  let text: string | null;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT')
      throw new Error(`device references ${path}: cannot read it (${code ?? (e as Error).message})`, {
        cause: e,
      });
    text = null;
  }
  const doc = text === null ? emptyDeviceReferences() : parseDeviceReferences(text, `device references ${path}`);
  return documentStore(path, doc, async (next) => {
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n');
      renameSync(tmp, path);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        // never written
      }
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(code ? `${code}: ${(e as Error).message}` : (e as Error).message, { cause: e });
    }
  });
}
