/** Bundle validation: an import is checked whole before anything is written. */
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/app/config.ts';
import { BUNDLE_SCHEMA, makeBundle, parseBundle } from '../../src/storage/bundle.ts';
import type { StoredRecord } from '../../src/storage/schema.ts';
import { sampleProfile } from './helpers/profile.ts';

const summary = {
  requests: 2,
  meanLatency: 1.5,
  p50Latency: 1,
  p90Latency: 2,
  p99Latency: 2,
  maxLatency: 2,
  meanTtft: 0.1,
  p50Ttft: 0.1,
  p90Ttft: 0.1,
  p99Ttft: 0.1,
  maxTtft: 0.1,
  makespan: 3,
  throughput: 10,
  rounds: 5,
  peakKv: 100,
  meanKv: 50,
  evictions: 0,
  restartedRequests: 0,
  energyJoules: 12,
  joulesPerRequest: 6,
};

const run: StoredRecord = {
  id: 'run-1',
  kind: 'run',
  createdAt: 1700000000000,
  title: 'a run',
  data: {
    type: 'experiment',
    config: { ...defaultConfig(), seed: 1 },
    result: {
      description: 'd',
      memory: 16492,
      mode: 'seconds',
      requests: 2,
      costModel: 'a100-llama2-70b-tp2',
      wallMs: 3,
      runs: [
        {
          policy: 'mcsf',
          ok: true,
          summary,
          cdf: { x: [0, 1, 2], y: [0, 0.5, 1] },
          kv: { x: [0], y: [100] },
          wallMs: 1,
        },
        { policy: 'alpha-clearing:0.9:0.9', ok: false, error: 'livelocked', errorName: 'LivelockError' },
      ],
    },
  },
};
const profile: StoredRecord = {
  id: 'profile-1',
  kind: 'profile',
  createdAt: 1,
  title: 'my GPU',
  data: sampleProfile() as unknown as StoredRecord['data'],
};
const other: StoredRecord = { id: 'note-1', kind: 'note', createdAt: 2, title: 'n', data: { free: 'form' } };

describe('bundles', () => {
  it('round-trips runs, profiles and other records', () => {
    const b = makeBundle([run, profile, other], new Date('2025-01-02T03:04:05Z'));
    expect(b.schema).toBe(BUNDLE_SCHEMA);
    const parsed = parseBundle(JSON.stringify(b));
    expect(parsed).toEqual({
      ok: true,
      bundle: { schema: BUNDLE_SCHEMA, exportedAt: '2025-01-02T03:04:05.000Z', records: [run, profile, other] },
    });
  });

  it.each([
    ['not JSON', '{"schema":', /x\.json is not JSON/],
    [
      'another schema',
      JSON.stringify({ schema: 'other/1', records: [] }),
      /has schema "other\/1"; expected "kvsched\.bundle\/1"/,
    ],
    ['no records', JSON.stringify({ schema: BUNDLE_SCHEMA, exportedAt: 'x' }), /records: /],
    ['a record without id', JSON.stringify(makeBundle([{ ...run, id: '' }])), /records\[0\]\.id/],
    [
      'a run without results',
      JSON.stringify(makeBundle([{ ...run, data: { type: 'experiment', config: {} } }])),
      /records\[0\] \(id "run-1"\)\.data/,
    ],
    [
      'a profile of another schema',
      JSON.stringify(makeBundle([{ ...profile, data: { schema: 'x' } }])),
      /records\[0\] \(id "profile-1"\)\.data\.schema/,
    ],
    [
      'a profile with a bad fit',
      JSON.stringify(
        makeBundle([
          {
            ...profile,
            data: {
              ...sampleProfile(),
              fit: { ...sampleProfile().fit, r2: 'high' },
            } as unknown as StoredRecord['data'],
          },
        ]),
      ),
      /records\[0\] \(id "profile-1"\)\.data\.fit\.r2/,
    ],
    ['a duplicate id', JSON.stringify(makeBundle([profile, profile])), /"profile-1" appears twice/],
    ['a bad kind', JSON.stringify(makeBundle([{ ...other, kind: 'Bad Kind' }])), /records\[0\] \(id "note-1"\)\.kind/],
  ])('rejects %s and says why', (_what, text, why) => {
    const r = parseBundle(text, 'x.json');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });
});
