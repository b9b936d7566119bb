/**
 * What the policy editor shows for a policy, derived from the registry's typed
 * declarations (POLICY_DECLS via POLICIES): one input per declared parameter, named by
 * its symbol, optional when it has a default. No policy rule is restated here.
 */
import { POLICIES, type ParamDecl, type PolicyInfo } from '../policies/registry.ts';

export interface ParamField {
  /** Config field name (`alpha`, `chunk`, …). */
  readonly name: string;
  /** How the UI labels it (`α`, `chunk`, …). */
  readonly label: string;
  readonly optional: boolean;
  /** The default shown as the placeholder (optional parameters). */
  readonly placeholder: string;
  readonly inputMode: 'decimal' | 'numeric';
}

export function policyInfo(name: string): PolicyInfo | undefined {
  return POLICIES.find((p) => p.name === name);
}

function field(p: ParamDecl): ParamField {
  return {
    name: p.name,
    label: p.symbol ?? p.name,
    optional: p.default !== undefined,
    placeholder: p.default !== undefined ? String(p.default) : (p.example ?? ''),
    inputMode: p.type === 'fraction' ? 'decimal' : 'numeric',
  };
}

/** The parameter inputs of a policy (empty for an unknown name). */
export function paramFields(name: string): ParamField[] {
  return (policyInfo(name)?.params ?? []).map(field);
}

/**
 * The spelling a newly picked policy starts with: its required parameters at their
 * examples (`alpha-clearing:0.1:0.2`), optional ones left to their defaults (`sarathi`).
 */
export function initialSpec(name: string): string {
  const info = policyInfo(name);
  if (!info) return name;
  const required = info.params.filter((p) => p.default === undefined).map((p) => p.example ?? '');
  return [name, ...required].join(':');
}

/**
 * The spelling after editing parameter `index` of `spec` to `value`: trailing empty
 * optional parameters are left out (they take their defaults).
 */
export function specWithParam(spec: string, index: number, value: string): string {
  const [name = '', ...args] = spec.split(':');
  const n = paramFields(name).length;
  const vals = Array.from({ length: Math.max(n, args.length) }, (_, k) =>
    k === index ? value.trim() : (args[k] ?? ''),
  );
  while (vals.length > 0 && vals[vals.length - 1] === '') vals.pop();
  return [name, ...vals].join(':');
}
