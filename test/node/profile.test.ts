/** Calibration fit, A100 reference, profile schema (zod), export/import and the profile cost model. No GPU needed. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extrapolate } from '../../src/calibrate/calibrate.ts';
import { featuresOf, fitCoefficients, predict, quality, TERMS, type Coefficients } from '../../src/calibrate/fit.ts';
import { batchOf, gridPoints, PRESETS } from '../../src/calibrate/grid.ts';
import { loadProfileCostModel, readProfileFile, writeProfileFile } from '../../src/calibrate/profile-node.ts';
import {
  adapterClassOf,
  DEFAULT_POWER,
  parseProfile,
  profileCostModel,
  profileRoundMicros,
  profileSchema,
  serializeProfile,
  withBoardPower,
  type Profile,
} from '../../src/calibrate/profile.ts';
import { a100x2Power, powerOf } from '../../src/cost/energy.ts';
import { buildInstance } from '../../src/experiment/instance.ts';
import { runPolicy } from '../../src/experiment/run.ts';
import { referenceFit, typicalLmsysRound } from '../../src/calibrate/reference.ts';
import { a100Llama2_70bTp2 } from '../../src/cost/a100.ts';
import { getCostModel } from '../../src/cost/registry.ts';
import { emptyBatchStats } from '../../src/model/types.ts';
import { sampleProfile, sampleProfileV1, TRUE } from './helpers/profile.ts';

function synthetic(noise: number) {
  let x = 7;
  const rnd = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31 - 0.5;
  };
  return gridPoints(PRESETS.full).map((g) => {
    const features = featuresOf(batchOf(g));
    return { features, micros: predict(TRUE, features) * (1 + noise * rnd()) };
  });
}

describe('fit', () => {
  it('recovers exact coefficients from noiseless rounds', () => {
    const c = fitCoefficients(synthetic(0));
    for (const k of Object.keys(TRUE) as Array<keyof Coefficients>) expect(c[k]).toBeCloseTo(TRUE[k], 6);
    expect(quality(c, synthetic(0)).r2).toBeCloseTo(1, 12);
    expect(quality(c, synthetic(0)).mape).toBeLessThan(1e-9);
  });
  it('stays close under 5 % noise and keeps every coefficient ≥ 0', () => {
    const pts = synthetic(0.1);
    const c = fitCoefficients(pts);
    expect(Object.values(c).every((v) => v >= 0)).toBe(true);
    const q = quality(c, pts);
    expect(q.r2).toBeGreaterThan(0.98);
    expect(q.mape).toBeLessThan(0.06);
  });
  it('drops a term that would fit negative', () => {
    const pts = [1, 2, 3, 4, 5, 6].map((t) => ({
      features: { tokens: t, kvTokens: 7 - t, prefillSquares: 0, decodeRequests: 0, prefillRequests: 0 },
      micros: 10 * t,
    }));
    const c = fitCoefficients(pts);
    expect(c.perKvTokenMicros).toBeGreaterThanOrEqual(0);
    expect(c.fixedMicros).toBeGreaterThanOrEqual(0);
  });
  it('extrapolates per layer and per width²', () => {
    const f = extrapolate(TRUE, 2, 4, 1000);
    expect(f.perKvTokenMicros).toBeCloseTo(0.75 * 40);
    // The per-request terms are attention's (full head geometry): × layers only.
    expect(f.perDecodeRequestMicros).toBeCloseTo(40 * 40);
    expect(f.perPrefillRequestMicros).toBeCloseTo(300 * 40);
    expect(f.perTokenMicros).toBeCloseTo(12.5 * 40 * 16);
    expect(f.fixedMicros).toBeCloseTo(1000 + 500 * 40);
  });
});

describe('A100 reference in the same form', () => {
  it('maps the roofline constants and fits the rest well', () => {
    const r = referenceFit();
    expect(r.name).toBe('a100-llama2-70b-tp2');
    expect(r.coefficients.perKvTokenMicros).toBeCloseTo(163840 / 1_500_000, 9);
    expect(r.coefficients.perPrefillSquareMicros).toBeCloseTo(655360 / 156_000_000, 9);
    // The A100 model has no per-request terms.
    expect(r.coefficients.perDecodeRequestMicros).toBe(0);
    expect(r.coefficients.perPrefillRequestMicros).toBe(0);
    expect(r.r2).toBeGreaterThan(0.98);
    // A small-batch decode step is 50–60 ms (model.md §7): the four-term form agrees within 20 %.
    const b = { ...emptyBatchStats(), requests: 8, decodeRequests: 8, decodeContext: 8 * 512 };
    const f = featuresOf(b);
    expect(predict(r.coefficients, f) / a100Llama2_70bTp2.roundMicros(b)).toBeGreaterThan(0.8);
    expect(predict(r.coefficients, f) / a100Llama2_70bTp2.roundMicros(b)).toBeLessThan(1.2);
  });
  it('derives the typical lmsys round from an engine run', () => {
    const t = typicalLmsysRound();
    expect(t.rounds).toBeGreaterThan(100);
    expect(t.mean.decodeRequests).toBeGreaterThan(1);
    expect(t.features.kvTokens).toBeCloseTo(t.mean.decodeContext);
  });
});

describe('profiles', () => {
  it('export → import gives an identical profile', () => {
    const p = sampleProfile();
    const text = serializeProfile(p);
    const back = parseProfile(text);
    expect(back).toEqual(p);
    expect(serializeProfile(back)).toBe(text);
    const dir = mkdtempSync(join(tmpdir(), 'kvsched-profile-'));
    writeProfileFile(join(dir, 'p.json'), p);
    expect(readProfileFile(join(dir, 'p.json'))).toEqual(p);
    // `kvsched calibrate --out` and the Calibrate view's export write this same text (serializeProfile).
    expect(readFileSync(join(dir, 'p.json'), 'utf8')).toBe(text);
    // Key order does not matter to the text: it follows the schema.
    const shuffled = Object.fromEntries(Object.entries(p).reverse()) as Profile;
    expect(serializeProfile(shuffled)).toBe(text);
  });

  it('rejects a bad field, naming it', () => {
    const p = sampleProfile() as unknown as { fit: { r2: unknown } };
    p.fit.r2 = 'high';
    expect(() => parseProfile(JSON.stringify(p))).toThrow(/fit\.r2: expected number/);
    const q = sampleProfile() as unknown as { measurements: Array<{ micros: unknown }> };
    (q.measurements[3] as { micros: unknown }).micros = -1;
    expect(() => parseProfile(JSON.stringify(q))).toThrow(/measurements\[3\]\.micros/);
    const r = sampleProfile() as unknown as { costModel: { perTokenPs: unknown } };
    r.costModel.perTokenPs = 1.5;
    expect(() => parseProfile(JSON.stringify(r))).toThrow(/costModel\.perTokenPs/);
  });

  it('rejects a newer schema version and non-JSON', () => {
    const p = { ...sampleProfile(), schema: 'kvsched.profile/3' };
    expect(() => parseProfile(JSON.stringify(p))).toThrow(/schema: kvsched\.profile\/3 is newer/);
    expect(() => parseProfile(JSON.stringify({ ...p, schema: 'other' }))).toThrow(
      /schema: expected "kvsched\.profile\/2"/,
    );
    expect(() => parseProfile('{nope')).toThrow(/not JSON/);
  });

  it('is a cost model with integer fixed-point arithmetic', () => {
    const m = profileCostModel(sampleProfile());
    const b = {
      requests: 20,
      prefillRequests: 1,
      prefillTokens: 100,
      prefillSquares: 10_000,
      decodeRequests: 19,
      decodeContext: 4000,
    };
    // 1500 + 12.5·119 + 0.75·4000 + 0.02·10000 + 40·19 + 300·1
    //   = 1500 + 1487.5 → 1488 (half up) + 3000 + 200 + 760 + 300
    expect(m.roundMicros(b)).toBe(1500 + 1488 + 3000 + 200 + 760 + 300);
    expect(m.roundMicros({ ...b, decodeRequests: 20 })).toBe(1500 + 1500 + 3000 + 200 + 800 + 300);
    expect(m.roundMicros({ ...b, prefillRequests: 3 })).toBe(1500 + 1488 + 3000 + 200 + 760 + 900);
    expect(Number.isInteger(m.roundMicros(b))).toBe(true);
    expect(m.roundMicros(emptyBatchStats())).toBe(1500);
    const zero = { unit: 'ps' as const, fixedPs: 0, perTokenPs: 0, perKvTokenPs: 0, perPrefillSquarePs: 0 };
    expect(profileRoundMicros(zero, emptyBatchStats())).toBe(1);
    // Products past 2^53 stay exact.
    const big = { ...b, prefillSquares: 2 ** 40 };
    expect(Number.isSafeInteger(m.roundMicros(big))).toBe(true);
    expect(() => m.roundMicros({ ...b, decodeContext: -1 })).toThrow(RangeError);
    expect(() => m.roundMicros({ ...b, prefillRequests: 0.5 })).toThrow(/prefillRequests/);
  });

  it('reads a /2 profile written before the per-request terms: absent terms are 0, it predicts as before', () => {
    const p = sampleProfile();
    const strip = <T extends object>(o: T, keys: readonly string[]) =>
      Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k))) as T;
    const added = ['perDecodeRequestMicros', 'perPrefillRequestMicros'];
    const old = {
      ...p,
      fit: { ...p.fit, coefficients: strip(p.fit.coefficients, added), intervals: strip(p.fit.intervals ?? {}, added) },
      fullModel: {
        ...p.fullModel,
        coefficients: strip(p.fullModel.coefficients, added),
        intervals: strip(p.fullModel.intervals ?? {}, added),
      },
      costModel: strip(p.costModel, ['perDecodeRequestPs', 'perPrefillRequestPs']),
      reference: { ...p.reference, coefficients: strip(p.reference.coefficients, added) },
    };
    const text = JSON.stringify(old);
    expect(text).not.toMatch(/perDecodeRequest|perPrefillRequest/);
    const back = parseProfile(text);
    expect(back.fullModel.coefficients.perDecodeRequestMicros).toBeUndefined();
    const b = { ...emptyBatchStats(), requests: 3, prefillRequests: 1, prefillTokens: 10, prefillSquares: 100 };
    // 1500 + 12.5·12 + 0.02·100 (decode: 2 requests, no context) — no per-request terms.
    expect(profileCostModel(back).roundMicros({ ...b, decodeRequests: 2 })).toBe(1500 + 150 + 2);
    // Round trip stays stable (nothing is added on export).
    expect(serializeProfile(back)).toBe(serializeProfile(parseProfile(serializeProfile(back))));
    expect(serializeProfile(back)).not.toMatch(/perDecodeRequest/);
    // A /2 profile missing one of the original four terms is still refused.
    const bad = { ...old, fit: { ...old.fit, coefficients: strip(old.fit.coefficients, ['perTokenMicros']) } };
    expect(() => parseProfile(JSON.stringify(bad))).toThrow(/fit\.coefficients\.perTokenMicros/);
  });

  it('lists every term of TERMS in the profile schema (the added ones optional)', () => {
    const p = sampleProfile();
    expect(Object.keys(p.fit.coefficients)).toEqual([...TERMS]);
    expect(Object.keys(parseProfile(serializeProfile(p)).fullModel.coefficients)).toEqual([...TERMS]);
  });

  it('is available as --cost-model profile:FILE, and a bad file stores nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvsched-profile-'));
    const file = join(dir, 'p.json');
    writeProfileFile(file, sampleProfile());
    const m = getCostModel(`profile:${file}`);
    expect(m.name).toBe(`profile:${file}`);
    expect(m.roundMicros(emptyBatchStats())).toBe(1500);
    expect(loadProfileCostModel(file).roundMicros(emptyBatchStats())).toBe(1500);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...sampleProfile(), fit: { ...sampleProfile().fit, r2: null } }));
    expect(() => getCostModel(`profile:${bad}`)).toThrow(/fit\.r2: expected number/);
    expect(() => getCostModel(`profile:${join(dir, 'missing.json')}`)).toThrow(/no such file/);
  });

  it('reads a kvsched.profile/1 profile as a legacy /2 profile (no intervals), with the same cost model', () => {
    const v1 = sampleProfileV1();
    const p = parseProfile(JSON.stringify(v1));
    expect(p.schema).toBe('kvsched.profile/2');
    expect(p.legacy).toBe(true);
    expect(p.fit.intervals).toBeUndefined();
    expect(p.validation.replay).toBeNull();
    expect(p.quality.verdict).toBe('noisy');
    expect(p.quality.reasons.join(' ')).toMatch(/legacy profile/);
    expect(p.power).toMatchObject({
      source: 'default',
      adapterClass: 'software',
      activeWattsPerGpu: DEFAULT_POWER.software.active,
    });
    const b = {
      requests: 20,
      prefillRequests: 1,
      prefillTokens: 100,
      prefillSquares: 10_000,
      decodeRequests: 19,
      decodeContext: 4000,
    };
    expect(profileCostModel(p).roundMicros(b)).toBe(profileRoundMicros(v1.costModel, b));
    // A legacy profile with a bad held-out R² is unusable, and a bad v1 field is named on its v1 path.
    expect(parseProfile(JSON.stringify({ ...v1, fit: { ...v1.fit, r2: 0.077 } })).quality.verdict).toBe('unusable');
    expect(() => parseProfile(JSON.stringify({ ...v1, fit: { ...v1.fit, r2: 'high' } }))).toThrow(
      /fit\.r2: expected number/,
    );
    expect(profileSchema.safeParse(v1).success).toBe(true);
    // Round trip of the migrated profile is stable.
    expect(parseProfile(serializeProfile(p))).toEqual(p);
  });

  it('requires the /2 fields (verdict, power) in a /2 profile', () => {
    const { quality: _q, ...noQuality } = sampleProfile();
    expect(() => parseProfile(JSON.stringify(noQuality))).toThrow(/quality: expected object/);
    const bad = { ...sampleProfile(), quality: { ...sampleProfile().quality, verdict: 'great' } };
    expect(() => parseProfile(JSON.stringify(bad))).toThrow(/quality\.verdict/);
  });
});

describe('power per profile', () => {
  it('defaults by adapter class, labelled as a default', () => {
    const a = {
      vendor: 'nvidia',
      architecture: 'hopper',
      device: '',
      description: 'NVIDIA H200',
      isFallbackAdapter: false,
    };
    expect(adapterClassOf(a)).toBe('datacenter');
    expect(adapterClassOf({ ...a, description: 'NVIDIA GeForce RTX 4090', architecture: 'ada' })).toBe('discrete');
    expect(
      adapterClassOf({ ...a, vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) UHD Graphics' }),
    ).toBe('integrated');
    expect(
      adapterClassOf({
        ...a,
        vendor: 'google',
        architecture: 'swiftshader',
        description: 'SwiftShader',
        isFallbackAdapter: true,
      }),
    ).toBe('software');
    expect(sampleProfile().power.name).toMatch(/^default: /);
  });

  it('a profile cost model carries its power, and simulations use it (not the A100 pair silently)', () => {
    const p = sampleProfile();
    const m = profileCostModel(p);
    expect(powerOf(m)).toMatchObject({ gpus: 1, activeWattsPerGpu: p.power.activeWattsPerGpu });
    expect(powerOf(a100Llama2_70bTp2)).toBe(a100x2Power);
    const user = withBoardPower(p, 130);
    expect(user.power).toMatchObject({
      source: 'user',
      activeWattsPerGpu: 130,
      idleWattsPerGpu: (p.power.idleWattsPerGpu * 130) / p.power.activeWattsPerGpu,
    });
    expect(() => withBoardPower(p, 0)).toThrow(/positive number of watts/);
    expect(parseProfile(serializeProfile(user))).toEqual(user);
    const inst = buildInstance({
      workload: { kind: 'lmsys', requests: 60, rate: 10 },
      mode: 'seconds',
      seed: 1,
      predict: { kind: 'exact' },
    });
    const a = runPolicy(inst, 'mcsf', { costModel: profileCostModel(p) });
    const b = runPolicy(inst, 'mcsf', { costModel: profileCostModel(user) });
    if (!a.ok || !b.ok) throw new Error('run failed');
    // Same schedule and durations; energy scales with the board power (idle scales with it too here).
    expect(b.summary.energyJoules / a.summary.energyJoules).toBeCloseTo(130 / p.power.activeWattsPerGpu, 6);
    const a100Energy = (a.result.totals.busy * a100x2Power.gpus * a100x2Power.activeWattsPerGpu) / 1e6;
    expect(a.summary.energyJoules).toBeLessThan(a100Energy);
  });
});
