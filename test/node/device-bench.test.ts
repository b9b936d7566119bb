/**
 * `npm run bench:device -- --smoke` runs here (Node, Dawn; SwiftShader without a GPU):
 * detection, a calibration with the replay check, kernel efficiencies, GPU vs CPU engine
 * throughput, one JSON file named after the adapter. Skipped only when Dawn has no adapter.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapterSlug, runDeviceBench } from '../../bench/device-lib.ts';
import { parseProfile } from '../../src/calibrate/profile.ts';
import { pickNodeAdapter } from '../../src/gpu/node-gpu.ts';

describe('bench:device --smoke', () => {
  it('names the file after the adapter', () => {
    expect(adapterSlug({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader' })).toBe(
      'google-swiftshader',
    );
    expect(adapterSlug({ vendor: 'nvidia', architecture: '', description: 'NVIDIA H200' })).toBe('nvidia-nvidia-h200');
    expect(adapterSlug({ vendor: '', architecture: '', description: '' })).toBe('adapter');
  });

  it('runs every part and writes device-<adapter>-smoke.json', async (ctx) => {
    try {
      await pickNodeAdapter();
    } catch (e) {
      return ctx.skip(`Dawn could not create an adapter: ${(e as Error).message}`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvsched-device-'));
    const lines: string[] = [];
    const r = await runDeviceBench({ smoke: true, outDir: dir, log: (l) => lines.push(l) });
    expect(fs.existsSync(r.file)).toBe(true);
    expect(path.basename(r.file)).toBe(`device-${r.adapter.slug}-smoke.json`);
    const json = JSON.parse(fs.readFileSync(r.file, 'utf8')) as typeof r;
    expect(json.adapter.name).toBe(r.adapter.name);
    expect(['good', 'noisy', 'unusable']).toContain(json.calibration.verdict);
    expect(json.calibration.replay?.rounds).toBeGreaterThan(0);
    expect(() => parseProfile(JSON.stringify(json.calibration.profile))).not.toThrow();
    expect(json.kernels.efficiencies.decodeVsStream).toBeGreaterThan(0);
    expect(json.throughput.rows.map((x) => `${x.replicas}/${x.engine}`)).toEqual(['1/gpu', '1/cpu', '4/gpu', '4/cpu']);
    for (const row of json.throughput.rows) expect(row.replicaRounds).toBeGreaterThan(0);
    expect(lines.some((l) => l.startsWith('adapter: '))).toBe(true);
  }, 600_000);
});
