/**
 * Node side of calibration profiles: files, and the `profile:FILE` cost-model scheme.
 * Importing this module registers the scheme (src/cost/registry.ts), so
 * `kvsched simulate --cost-model profile:FILE` uses a calibrated device.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { MAX_FILE_BYTES } from '../model/limits.ts';
import { readCapped, TooLargeError } from '../workload/node-files.ts';
import { registerCostModelScheme } from '../cost/registry.ts';
import type { CostModel } from '../model/types.ts';
import { parseProfile, profileCostModel, ProfileError, serializeProfile, type Profile } from './profile.ts';

export function readProfileFile(file: string): Profile {
  let text: string;
  try {
    text = readCapped(file, MAX_FILE_BYTES.profile);
  } catch (e) {
    if (e instanceof TooLargeError) throw new ProfileError(`${file}: ${e.message}`);
    const code = (e as NodeJS.ErrnoException).code;
    throw new ProfileError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}`}`);
  }
  return parseProfile(text, file);
}

/** Write atomically (temp file + rename): a failed write leaves no half profile. */
export function writeProfileFile(file: string, p: Profile): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, serializeProfile(p));
  renameSync(tmp, file);
}

export function loadProfileCostModel(file: string): CostModel {
  return profileCostModel(readProfileFile(file), `profile:${file}`);
}

registerCostModelScheme('profile', loadProfileCostModel, 'profile:FILE');
