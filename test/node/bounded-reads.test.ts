/** Every file read is capped: an endless or huge input is refused after at most the cap, never read whole. */
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readProfileFile } from '../../src/calibrate/profile-node.ts';
import { serializeProfile } from '../../src/calibrate/profile.ts';
import { MAX_FILE_BYTES } from '../../src/model/limits.ts';
import { readCapped, readTextFileSync, TooLargeError } from '../../src/workload/node-files.ts';
import { sampleProfile } from './helpers/profile.ts';

const dir = mkdtempSync(join(tmpdir(), 'kvsched-reads-'));

describe('capped reads', () => {
  it('stops reading /dev/zero at the cap', () => {
    expect(() => readCapped('/dev/zero', 1000)).toThrow(TooLargeError);
    expect(() => readTextFileSync('/dev/zero', 4096)).toThrow(
      '/dev/zero: is longer than the 4096 bytes read from one file (stopped reading there)',
    );
  });

  it('refuses a regular file larger than the cap from its size, without reading it', () => {
    const big = join(dir, 'big.csv');
    writeFileSync(big, '');
    truncateSync(big, MAX_FILE_BYTES.trace + 1); // sparse: costs no disk
    expect(() => readTextFileSync(big)).toThrow(`${big}: is 256 MiB, more than the 256 MiB read from one file`);
  });

  it('reads files within the cap whole, and keeps the old messages for missing files and directories', () => {
    const f = join(dir, 'ok.csv');
    writeFileSync(f, 'a,b\n1,2\n');
    expect(readTextFileSync(f)).toBe('a,b\n1,2\n');
    expect(() => readTextFileSync(join(dir, 'none.csv'))).toThrow(/none\.csv: no such file/);
    expect(() => readTextFileSync(dir)).toThrow(/is a directory, not a trace file/);
  });

  it('caps a profile read (profile:/dev/zero), and reads a profile with a BOM', () => {
    expect(() => readProfileFile('/dev/zero')).toThrow(/^\/dev\/zero: is longer than the 16 MiB read from one file/);
    const p = join(dir, 'p.json');
    writeFileSync(p, '\uFEFF' + serializeProfile(sampleProfile()));
    expect(readProfileFile(p)).toEqual(sampleProfile());
  });
});

describe('echoed profile text', () => {
  it('a profile that is not JSON is reported without its terminal escapes', () => {
    const p = join(dir, 'esc.json');
    writeFileSync(p, '\u001b[31m not json');
    let msg = '';
    try {
      readProfileFile(p);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/esc\.json: not JSON: /);
    expect(msg).not.toContain('\u001b');
  });
});
