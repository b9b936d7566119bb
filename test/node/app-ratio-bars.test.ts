/**
 * Compare's ratio bars and the profile table with the per-request terms: the A100 model has
 * no such terms, so they are shown as "not in the A100 model" (never a missing bar or a
 * made-up ratio); a profile written before them shows them as absent, read as 0.
 */
import type { DeviceReferenceUse } from '../../src/calibrate/device-reference.ts';
import { describe, expect, it } from 'vitest';
import { NOT_IN_A100, profileFacts, RATIO_TERMS, ratioBars, TERM_ABSENT } from '../../src/app/calibration.ts';
import { ADDED_TERMS, TERM_NAMES, TERMS } from '../../src/calibrate/fit.ts';
import { parseProfile } from '../../src/calibrate/profile.ts';
import { sampleProfile, sampleProfileV1 } from './helpers/profile.ts';

describe('ratio bars with the per-request terms', () => {
  it('has one bar group per term of TERMS', () => {
    expect(RATIO_TERMS.map(([t]) => t)).toEqual([...TERMS]);
  });

  it('gives the terms the A100 lacks no ratio, with the profile’s own value and interval', () => {
    const p = sampleProfile();
    const [d] = ratioBars([{ title: 'x', profile: p }]);
    const bars = d?.bars ?? [];
    expect(bars.length).toBe(TERMS.length);
    for (const t of TERMS) {
      const b = bars.find((x) => x.term === TERM_NAMES[t]);
      if ((ADDED_TERMS as readonly string[]).includes(t)) {
        expect(b?.noRatio?.why).toBe('reference');
        expect(b?.noRatio?.micros).toBe(p.fullModel.coefficients[t]);
        expect(b?.noRatio?.interval).toEqual(p.fullModel.intervals?.[t]);
        expect(b?.zero).toBe(false);
      } else {
        expect(b?.noRatio).toBeUndefined();
        expect(b?.value).toBe(p.reference.ratios[t]);
      }
    }
  });

  it('says a legacy profile predates the per-request terms (read as 0), in the bars and the table', () => {
    const legacy = parseProfile(JSON.stringify(sampleProfileV1()));
    const bars = ratioBars([{ title: 'old', profile: legacy }])[0]?.bars ?? [];
    expect(bars.filter((b) => b.noRatio?.why === 'profile').length).toBe(ADDED_TERMS.length);
    const facts = profileFacts(legacy).filter(([g]) => g === 'Llama-2 70B');
    expect(facts.length).toBe(TERMS.length);
    expect(facts.filter(([, , v]) => v === TERM_ABSENT).length).toBe(ADDED_TERMS.length);
  });

  it('labels the new terms in the profile table as not in the A100 model', () => {
    const facts = profileFacts(sampleProfile()).filter(([g]) => g === 'Llama-2 70B');
    for (const t of ADDED_TERMS) {
      const row = facts.find(([, k]) => k.startsWith(TERM_NAMES[t]));
      expect(String(row?.[2])).toContain(NOT_IN_A100);
    }
    expect(String(facts.find(([, k]) => k.startsWith(TERM_NAMES.perTokenMicros))?.[2])).not.toContain(NOT_IN_A100);
  });

  it("shows how many devices the linear sweep rotated over, with their levels, in every profile's row", () => {
    const p = sampleProfile();
    const row = (q: typeof p) => profileFacts(q).find(([, k]) => k === 'linear sweep devices')?.[2];
    const design = p.design;
    if (!design) throw new Error('sample profile without design');
    expect(row({ ...p, design: { ...design, linearDevices: undefined } })).toBe('—');
    expect(
      row({ ...p, design: { ...design, linearDevices: { count: 5, levels: [0.951, 1, 1.072, 0.99, 1.01] } } }),
    ).toBe('5 (levels 0.95–1.07)');
    expect(
      row({
        ...p,
        design: { ...design, linearDevices: { count: 1, levels: [1], note: 'device 2 could not be opened: denied' } },
      }),
    ).toBe('1: device 2 could not be opened: denied');
    // Legacy profiles have no design: the row is there (tables align rows by index) and says so.
    expect(row(parseProfile(JSON.stringify(sampleProfileV1())))).toBe('—');
  });

  it("says what the calibration did with this machine's device reference, in every profile's row", () => {
    const p = sampleProfile();
    const row = (q: typeof p) => profileFacts(q).find(([, k]) => k === 'device reference')?.[2];
    const design = p.design;
    if (!design) throw new Error('sample profile without design');
    const drift = { referenceQuantile: 0.9, referenceRate: 2e10, beta: 0.4, commonModeShare: 0.1, samples: 30 };
    const withUse = (deviceReference: DeviceReferenceUse | undefined) =>
      row({ ...p, design: { ...design, drift: { ...drift, deviceReference } } });
    expect(withUse(undefined)).toBe('—');
    expect(withUse({ status: 'applied', runRate: 2.2e10, rate: 2e10, setAt: '2026-12-05T14:00:00.000Z' })).toBe(
      "times expressed at this device's stored reference, 20.00 GFLOP/s (set 2026-12-05 14:00 UTC); this run's probe ran at 22.00 GFLOP/s, 1.100× it",
    );
    expect(withUse({ status: 'none', runRate: 2e10, note: 'why' })).toBe('none stored yet; why');
    // With earlier calibrations at the same reference: a stored profile keeps the comparison.
    const earlier = { runs: 3, medianMicros: 3.5e9, minMicros: 3.4e9, maxMicros: 3.6e9, ratio: 1.02 };
    const use: DeviceReferenceUse = {
      status: 'applied',
      runRate: 2e10,
      rate: 2e10,
      setAt: '2026-12-05T14:00:00Z',
      earlier,
    };
    const stored = parseProfile(
      JSON.stringify({ ...p, design: { ...design, drift: { ...drift, deviceReference: use } } }),
    );
    expect(stored.design?.drift?.deviceReference?.earlier).toEqual(earlier);
    expect(row(stored)).toMatch(
      /1\.000× it; typical round 1\.020× the median of this device's 3 earlier calibrations here \(3,500 s; range 3,400–3,600 s\)$/,
    );
    expect(row(parseProfile(JSON.stringify(sampleProfileV1())))).toBe('—');
  });
});
