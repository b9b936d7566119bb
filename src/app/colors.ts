/**
 * A policy's colour follows its spelling (e.g. `alpha-greedy:0.1`), never its position in
 * a list, so it keeps its colour across runs, charts and views. The paper's line-up and
 * then the serving line-up's new policies get the Okabe–Ito colours (distinguishable with
 * colour-vision deficiencies) and two of Paul Tol's in a fixed order; any other spelling
 * is hashed onto the same palette (stable, may repeat).
 */
import { PAPER_POLICIES, SERVING_POLICIES } from '../policies/registry.ts';

/** Okabe–Ito colours, darkened where needed for 3:1 contrast against the light surface, then Tol's wine and teal. */
export const PALETTE = [
  '#0072B2',
  '#C17D00',
  '#009E73',
  '#CC79A7',
  '#3A9BD5',
  '#D55E00',
  '#6E6E6E',
  '#8F7E00',
  '#882255',
  '#2F7F73',
];

/** Spellings with a fixed colour each (no two alike). */
const FIXED = [...PAPER_POLICIES, ...SERVING_POLICIES.filter((s) => !PAPER_POLICIES.includes(s))];

/** FNV-1a over the spelling: stable across sessions and builds. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function policyColor(spec: string): string {
  const i = FIXED.indexOf(spec);
  return PALETTE[(i >= 0 ? i : hash(spec)) % PALETTE.length] as string;
}
