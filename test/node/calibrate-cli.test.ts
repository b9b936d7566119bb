/** `kvsched calibrate`'s report of a profile: verdict first, intervals, replay, power; legacy profiles say so. */
import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/calibrate/profile.ts';
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
  it('says when a profile is legacy (no intervals, no replay)', () => {
    const text = describeProfile(parseProfile(JSON.stringify(sampleProfileV1())));
    expect(text.split('\n')[0]).toMatch(/^verdict: NOISY — legacy profile/);
    expect(text).toContain('legacy profile (kvsched.profile/1): no intervals');
    expect(text).toContain('replay: not run');
    expect(text).not.toContain('[lo – hi]');
  });
});
