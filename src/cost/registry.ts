/**
 * Cost models by name.
 *
 * Built-in models are plain names (`a100-llama2-70b-tp2`). Other families are
 * addressed as `SCHEME:ARGUMENT` and resolved by a resolver registered for SCHEME with
 * `registerCostModelScheme` — this is the extension point for calibrated profiles
 * (`profile:FILE`), which the calibration feature registers when it is loaded; nothing
 * is registered for it here.
 */
import type { CostModel } from '../model/types.ts';
import { a100Llama2_70bTp2 } from './a100.ts';

/** Turns the ARGUMENT of `SCHEME:ARGUMENT` into a model; throws with a clear message if it cannot. */
export type CostModelResolver = (argument: string) => CostModel;

const BUILTIN: ReadonlyMap<string, CostModel> = new Map([[a100Llama2_70bTp2.name, a100Llama2_70bTp2]]);

const schemes = new Map<string, { resolver: CostModelResolver; usage: string }>();
/** Schemes whose resolver's module is imported on demand (`declareCostModelScheme`). */
const declared = new Map<string, { usage: string; load: () => Promise<unknown> }>();

/** The default cost model's name. */
export const DEFAULT_COST_MODEL = a100Llama2_70bTp2.name;

/**
 * Register a resolver for `scheme:ARGUMENT` names, e.g.
 * `registerCostModelScheme('profile', loadProfile, 'profile:FILE')`.
 * `usage` is shown in error messages and by `listCostModels`. Registering a scheme twice
 * replaces the earlier resolver.
 */
export function registerCostModelScheme(scheme: string, resolver: CostModelResolver, usage = `${scheme}:ARG`): void {
  if (!/^[a-z][a-z0-9-]*$/.test(scheme)) throw new Error(`invalid cost model scheme "${scheme}"`);
  schemes.set(scheme, { resolver, usage });
  declared.delete(scheme);
}

/**
 * A scheme listed at once whose resolver lives in a module imported on demand: `load`
 * imports it, and the module registers the resolver (`registerCostModelScheme`). The CLI
 * declares `profile:FILE` this way, so that commands that never read a profile do not
 * load zod and the profile schema (~60 ms of start-up). `prepareCostModel` loads it.
 */
export function declareCostModelScheme(scheme: string, usage: string, load: () => Promise<unknown>): void {
  if (!schemes.has(scheme)) declared.set(scheme, { usage, load });
}

/** Imports the module of the declared scheme `name` uses (`SCHEME:ARGUMENT`), if it is not loaded yet. */
export async function prepareCostModel(name: string): Promise<void> {
  const colon = name.indexOf(':');
  const scheme = colon > 0 ? name.slice(0, colon) : '';
  const entry = declared.get(scheme);
  if (entry === undefined) return;
  await entry.load();
  if (!schemes.has(scheme)) throw new Error(`loading cost model scheme "${scheme}" registered no resolver`);
}

/** Built-in model names, then one usage pattern per registered or declared scheme (e.g. `profile:FILE`). */
export function listCostModels(): string[] {
  return [...[...BUILTIN.keys()].sort(), ...[...schemes.values(), ...declared.values()].map((s) => s.usage).sort()];
}

/** The cost model of that name; throws listing the known names when there is none. */
export function getCostModel(name: string): CostModel {
  const builtin = BUILTIN.get(name);
  if (builtin !== undefined) return builtin;
  const colon = name.indexOf(':');
  if (colon > 0) {
    const entry = schemes.get(name.slice(0, colon));
    if (entry !== undefined) return entry.resolver(name.slice(colon + 1));
    if (declared.has(name.slice(0, colon))) {
      throw new Error(`internal: cost model scheme "${name.slice(0, colon)}" used before prepareCostModel loaded it`);
    }
  }
  throw new Error(`unknown cost model "${name}"; known: ${listCostModels().join(', ')}`);
}
