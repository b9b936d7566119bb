/** `kvsched calibrate`'s report of a profile: verdict first, intervals, replay, power; legacy profiles say so. */
import { describe, expect, it } from 'vitest';
import { parseProfile, serializeProfile, type Profile } from '../../src/calibrate/profile.ts';
import { describeProfile } from '../../src/cli/calibrate.ts';
import { sampleProfile, sampleProfileV1 } from './helpers/profile.ts';

describe('describeProfile', () => {
  it('prints the verdict, intervals, the replay check and the power model', () => {
    const p = sampleProfile();
    const text = describeProfile({
      ...p,
      quality: {
        ...p.quality,
        verdict: 'unusable',
        reasons: ['held-out R² 0.08', 'per-token term not identifiable (its interval includes 0)'],
      },
    });
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      'verdict: UNUSABLE — held-out R² 0.08; per-token term not identifiable (its interval includes 0)',
    );
    expect(text).toMatch(/per token \(linear, compute\)\s+12\.500 \[12\.250 – 12\.750\]/);
    expect(text).toMatch(/replay: 60 rounds of mcsf on lmsys: measured 1,?000 ms, predicted 1,?040 ms, error \+4\.0 %/);
    expect(text).toMatch(/power: 1 × 65 W active, 10 W idle \(default for a software adapter/);
    expect(text).toContain('[lo – hi]: 95 % intervals');
  });
  it('shows the drift normalisation and the replay as timed; the new fields round-trip', () => {
    const p = sampleProfile();
    const d = p.design;
    const rp = p.validation.replay;
    if (!d || !rp) throw new Error('sample profile without design or replay');
    const q: Profile = {
      ...p,
      design: {
        ...d,
        linear: { ...d.linear, points: d.linear.points.map((x) => ({ ...x, referenceRates: [5e9, 4e9, 5.1e9] })) },
        drift: { referenceQuantile: 0.9, referenceRate: 5e9, beta: 0.7, commonModeShare: 0.4, samples: 90 },
        phaseMs: { compile: 100, sweeps: 20_000 },
      },
      measurements: p.measurements.map((m) => ({ ...m, referenceRates: m.measurement.samplesMs.map(() => 5e9) })),
      validation: { replay: { ...rp, measuredRaw: 1_200_000 } },
    };
    const text = describeProfile(q);
    expect(text).toContain(
      "drift normalisation: samples at the reference probe's 5.00 GFLOP/s (its 90th percentile), " +
        "sensitivity β 0.70, 40 % of the repeats' variance removed",
    );
    expect(text).toMatch(/measured 1,?000 ms \(drift-normalised; 1,?200 ms as timed\)/);
    expect(parseProfile(serializeProfile(q))).toEqual(q);
    expect(serializeProfile(parseProfile(serializeProfile(q)))).toBe(serializeProfile(q));
  });
  it('says when a profile is legacy (no intervals, no replay)', () => {
    const text = describeProfile(parseProfile(JSON.stringify(sampleProfileV1())));
    expect(text.split('\n')[0]).toMatch(/^verdict: NOISY — legacy profile/);
    expect(text).toContain('legacy profile (kvsched.profile/1): no intervals');
    expect(text).toContain('replay: not run');
    expect(text).not.toContain('[lo – hi]');
    // It predates the per-request terms: shown as absent (the cost model reads 0).
    expect(text).toMatch(/per decode request \(.*\)\s+absent: read as 0/);
    expect(text).toMatch(/per prefill request \(.*\)\s+absent: read as 0/);
  });
  it('shows the per-request terms with intervals, and "not in the A100 model" instead of a ratio', () => {
    const text = describeProfile(sampleProfile());
    const row = (name: string) => text.split('\n').find((l) => l.startsWith(name)) ?? '';
    expect(row('per decode request')).toMatch(/\[.* – .*\].*not in the A100 model$/);
    expect(row('per prefill request')).toMatch(/\[.* – .*\].*not in the A100 model$/);
    expect(row('per token')).not.toContain('not in the A100 model');
  });
});
