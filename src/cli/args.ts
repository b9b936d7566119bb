import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './io.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with strict checking, re-thrown as a UsageError. */
export function parseCli<O extends Options>(argv: string[], options: O): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>['values'] {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function intArg(text: string | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`--${name}: "${text}" is not a whole number`);
  const v = Number(text);
  if (v < min || v > max) throw new UsageError(`--${name}: ${v} is out of range [${min}, ${max}]`);
  return v;
}

export function numArg(text: string | undefined, name: string, exclusiveMin: number): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v <= exclusiveMin) throw new UsageError(`--${name}: "${text}" must be a number > ${exclusiveMin}`);
  return v;
}

export function choiceArg<T extends string>(text: string | undefined, name: string, choices: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(`--${name}: "${text}" is not one of ${choices.join(', ')}`);
  return text as T;
}
