/**
 * A profile's verdict — `good`, `noisy` or `unusable` — with its reasons
 * (docs/calibration.md, "Verdict rules"). Pure: the thresholds are declared once here
 * and the docs table and the tests read them.
 */
import { secondsText, type Repeatability } from './device-reference.ts';
import { TERM_NAMES, TERM_X, type Features, type Term } from './fit.ts';

export type Verdict = 'good' | 'noisy' | 'unusable';

export const VERDICT_RULES = {
  /** Held-out R² below this: unusable; below `noisyR2`: noisy. */
  unusableR2: 0.5,
  noisyR2: 0.95,
  /** Typical round's 95 % interval, ± fraction: above `unusableHalfWidth` unusable; above the preset's target noisy. */
  unusableHalfWidth: 0.5,
  /** Replay prediction error |measured − predicted| / measured: above these, unusable / noisy. */
  unusableReplayError: 0.5,
  noisyReplayError: 0.15,
  /** Interference: the sentinel probe's rate max/min across visits above this: noisy. */
  noisyProbeDrift: 1.3,
  /** Median over points of (max − min) / median of a point's samples above this: noisy. */
  noisyRepeatSpread: 0.3,
  /**
   * A term is identifiable when its 95 % interval excludes 0 and spans at most this factor
   * (hi/lo). A 2× span is a log half-width of 0.35, a standard error of ~0.18 in log: five
   * independent calibrations would then spread by about 2.33 × 0.18 = 0.41 in log, 1.5× —
   * the reproducibility issue 13 asks of a term. A wider interval says the data cannot pin
   * the term to that, and the term is reported so, with its interval.
   */
  maxTermSpan: 2,
  /**
   * A term not identifiable (see maxTermSpan) is a noisy reason unless even the far
   * end of its interval is below this share of the typical round: then it cannot move any
   * prediction that matters, and it is reported beside the terms, not held against the
   * profile (the per-request terms are ~0.1 % of a Llama-2-70B round).
   */
  minorTermShare: 0.01,
  /**
   * The run's own reference rate over the device's stored reference
   * (./device-reference.ts) beyond this factor, either way: noisy. Scaling the samples to
   * the stored rate is then an extrapolation over a large change of speed (a busy machine,
   * a throttled device). 1.3 is `noisyProbeDrift`, the same interference test within a run,
   * applied between runs.
   */
  maxReferenceShift: 1.3,
  /**
   * The typical round over the median of the device's earlier calibrations at the same
   * reference (./device-reference.ts, repeatabilityOf) beyond this factor, either way, once
   * there are `minHistoryRuns` of them: noisy. 1.15 is the max/min issue 13 asks of five
   * calibrations; on the 2-core SwiftShader machine a quick calibration's typical round
   * varied with sd ~4.6 % in log between runs (75 calibrations, docs/calibration.md), so
   * 1.15× is ~3 sd: a run this far off moved for a reason its own intervals do not show.
   */
  maxHistoryShift: 1.15,
  /** Earlier calibrations the history rule needs: the median of fewer is one run's noise. */
  minHistoryRuns: 3,
} as const;

/**
 * A term's name as the reasons use it before "term" ("per-token term not identifiable"):
 * TERM_NAMES hyphenated, and "fixed" for the fixed cost per round.
 */
export function termAdjective(t: Term): string {
  return t === 'fixedMicros' ? 'fixed' : TERM_NAMES[t].replaceAll(' ', '-');
}

export interface VerdictInput {
  heldOutR2: number;
  /** Relative half-width of the typical round's interval. */
  typicalHalfWidth: number;
  targetHalfWidth: number;
  /** Terms not identifiable: 95 % interval includes 0 or spans more than `maxTermSpan` (see notIdentifiableWhy). */
  notIdentifiable: readonly Term[];
  /** The terms' 95 % intervals (Llama-2-70B), for the reasons' wording; absent: "its interval includes 0". */
  termIntervals?: Partial<Record<Term, readonly [number, number]>>;
  /** Of those, the ones whose interval's far end is < `minorTermShare` of the typical round. */
  minorTerms?: readonly Term[];
  probeDrift: number;
  repeatSpread: number;
  /** Signed replay error (predicted − measured) / measured; null when no replay ran. */
  replayError: number | null;
  /** The run's own reference rate / the stored device reference it is expressed at (absent or 1: not applied). */
  referenceShift?: number;
  /** This run's typical round against the device's earlier calibrations at the same reference. */
  history?: Pick<Repeatability, 'runs' | 'ratio' | 'medianMicros'>;
  /** A kvsched.profile/1 profile read by a newer kvsched: no intervals, no replay. */
  legacy?: boolean;
}

const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)} %`;

/**
 * A term's largest plausible part of a round (µs): the far end of its interval (the larger
 * magnitude) times the round's count of the term's unit. The verdict's minor rule and the
 * calibration benchmark's term shares both use it.
 */
export function farEndMicros(t: Term, interval: readonly [number, number], round: Features): number {
  return Math.max(Math.abs(interval[0]), Math.abs(interval[1])) * TERM_X[t](round);
}

/**
 * Why a term with this 95 % interval is not identifiable, or null when it is: its interval
 * includes 0, or it spans more than `maxTermSpan` (hi/lo).
 */
export function notIdentifiableWhy(interval: readonly [number, number]): string | null {
  const [lo, hi] = interval;
  if (!(lo > 0)) return 'its interval includes 0';
  const span = hi / lo;
  if (!(span <= VERDICT_RULES.maxTermSpan))
    return `its 95 % interval spans ${span.toFixed(1)}×, more than ${VERDICT_RULES.maxTermSpan}×`;
  return null;
}

/**
 * The not-identifiable terms that cannot matter: even the far end of the term's interval,
 * times the typical round's count of its unit, is below `minorTermShare` of the typical round.
 */
export function minorTermsOf(
  notIdentifiable: readonly Term[],
  contribution: (t: Term) => number,
  typicalMicros: number,
): Term[] {
  return notIdentifiable.filter(
    (t) =>
      Number.isFinite(typicalMicros) &&
      typicalMicros > 0 &&
      contribution(t) < VERDICT_RULES.minorTermShare * typicalMicros,
  );
}

/** What a profile says about its minor terms (shown beside the verdict), or null when it has none. */
export function minorTermsNote(terms: readonly Term[] | undefined): string | null {
  if (!terms || terms.length === 0) return null;
  const names = terms.map(termAdjective).join(', ');
  return `${names} ${terms.length === 1 ? 'term' : 'terms'} not identifiable (95 % interval includes 0 or spans more than ${VERDICT_RULES.maxTermSpan}×) but minor: below ${100 * VERDICT_RULES.minorTermShare} % of the typical round even at the interval's far end`;
}

/** A ratio more than `factor` away from 1, either way. */
function beyondEitherWay(ratio: number, factor: number): boolean {
  return ratio > factor || ratio < 1 / factor;
}

export function verdictOf(q: VerdictInput): { verdict: Verdict; reasons: string[] } {
  const R = VERDICT_RULES;
  const unusable: string[] = [];
  const noisy: string[] = [];
  if (!Number.isFinite(q.heldOutR2) || q.heldOutR2 < R.unusableR2)
    unusable.push(`held-out R² ${Number.isFinite(q.heldOutR2) ? q.heldOutR2.toFixed(2) : 'not computed'}`);
  else if (q.heldOutR2 < R.noisyR2) noisy.push(`held-out R² ${q.heldOutR2.toFixed(3)} (< ${R.noisyR2})`);
  if (!q.legacy) {
    if (!(q.typicalHalfWidth <= R.unusableHalfWidth))
      unusable.push(`typical-round interval ±${Number.isFinite(q.typicalHalfWidth) ? pct(q.typicalHalfWidth) : '∞'}`);
    else if (q.typicalHalfWidth > q.targetHalfWidth)
      noisy.push(
        `typical-round interval ±${pct(q.typicalHalfWidth)} (target ±${pct(q.targetHalfWidth)}) when sampling stopped`,
      );
    for (const t of q.notIdentifiable)
      if (!q.minorTerms?.includes(t)) {
        const iv = q.termIntervals?.[t];
        noisy.push(
          `${termAdjective(t)} term not identifiable (${(iv && notIdentifiableWhy(iv)) ?? 'its interval includes 0'})`,
        );
      }
    if (q.probeDrift > R.noisyProbeDrift)
      noisy.push(`interference: the probe's rate varied ${q.probeDrift.toFixed(2)}× between visits`);
    if (q.repeatSpread > R.noisyRepeatSpread) noisy.push(`repeats spread ${pct(q.repeatSpread)} (median over points)`);
    const shift = q.referenceShift;
    if (shift !== undefined && shift > 0 && beyondEitherWay(shift, R.maxReferenceShift))
      noisy.push(
        `the device ran at ${shift.toFixed(2)}× its stored reference speed (beyond ${R.maxReferenceShift}× either way); its times are scaled to that reference (replace it if it was set while the device was busy)`,
      );
    const h = q.history;
    if (h && h.runs >= R.minHistoryRuns && beyondEitherWay(h.ratio, R.maxHistoryShift))
      noisy.push(
        `typical round ${h.ratio.toFixed(2)}× the median of this device's ${h.runs} earlier calibrations here (${secondsText(h.medianMicros)}; beyond ${R.maxHistoryShift}× either way)`,
      );
    if (q.replayError !== null) {
      const e = Math.abs(q.replayError);
      if (!Number.isFinite(e) || e > R.unusableReplayError)
        unusable.push(`replay error ${Number.isFinite(q.replayError) ? pct(q.replayError) : 'not computed'}`);
      else if (e > R.noisyReplayError) noisy.push(`replay error ${q.replayError > 0 ? '+' : '−'}${pct(e)}`);
    }
  } else {
    noisy.push('legacy profile (kvsched.profile/1): no intervals or replay check; recalibrate');
  }
  if (unusable.length > 0) return { verdict: 'unusable', reasons: [...unusable, ...noisy] };
  if (noisy.length > 0) return { verdict: 'noisy', reasons: noisy };
  return { verdict: 'good', reasons: [] };
}
