/**
 * A policy's colour follows its spelling (e.g. `alpha-greedy:0.1`), never its position in
 * a list, so it keeps its colour across runs, charts and views. The paper's line-up gets
 * the Okabe–Ito colours (distinguishable with colour-vision deficiencies) in a fixed
 * order; any other spelling is hashed onto the same palette (stable, may repeat).
 */
import { PAPER_POLICIES } from '../policies/registry.ts';

/** Okabe–Ito colours, darkened where needed for 3:1 contrast against the light surface. */
export const PALETTE = ['#0072B2', '#C17D00', '#009E73', '#CC79A7', '#3A9BD5', '#D55E00', '#6E6E6E', '#8F7E00'];

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
  const i = PAPER_POLICIES.indexOf(spec);
  return PALETTE[(i >= 0 ? i : hash(spec)) % PALETTE.length] as string;
}
