/**
 * The Experiment form's cost-model hint names the power model the run's energy uses: a
 * profile's own (default by adapter class, or set by the user), never the A100's
 * (issue 16, "the cost-model hint describes the A100 when a profile is selected").
 */
import { describe, expect, it } from 'vitest';
import { profilePowerHint } from '../../src/app/calibration.ts';
import { withBoardPower } from '../../src/calibrate/profile.ts';
import { sampleProfile, sampleProfileV1 } from './helpers/profile.ts';

describe('profilePowerHint', () => {
  it("states the profile's default power and its adapter class, not the A100's", () => {
    const p = sampleProfile();
    const w = p.power;
    const text = profilePowerHint(p);
    expect(text).toContain(`${w.gpus * w.activeWattsPerGpu} W busy`);
    expect(text).toContain(`default for a ${w.adapterClass} adapter`);
    expect(text).not.toMatch(/400 W|A100 power/);
  });

  it('says when the user set the board power', () => {
    const text = profilePowerHint(withBoardPower(sampleProfile(), 300));
    expect(text).toContain('300 W busy');
    expect(text).toContain('set by the user');
  });

  it('a kvsched.profile/1 record gets its migrated default; invalid data says the power is unknown', () => {
    expect(profilePowerHint(sampleProfileV1())).toMatch(/W busy, .* W idle \(the default for a /);
    expect(profilePowerHint({ schema: 'nonsense' })).toMatch(/not valid/);
  });
});
