/**
 * docs/cli.md's option lists are generated from the option tables: each
 * `<!-- options: NAME -->` … `<!-- /options -->` block holds `optionsText` of that
 * command. `npx tsx scripts/gen-cli-docs.ts` rewrites them; test/node/cli-options.test.ts
 * fails when they drift.
 */
import { COMMANDS } from './main.ts';
import { PAPER_EXPERIMENTS } from './paper.ts';
import { optionsText, type CommandSpec } from './options.ts';

/** Every command's option table, by the name typed after `kvsched`. */
export async function allSpecs(): Promise<CommandSpec[]> {
  const specs: CommandSpec[] = [];
  for (const c of COMMANDS) {
    const cmd = await c.load();
    if (cmd.spec) specs.push(cmd.spec);
  }
  for (const e of PAPER_EXPERIMENTS) specs.push(e.spec);
  return specs;
}

const BLOCK = /<!-- options: ([a-z ]+) -->\n[\s\S]*?<!-- \/options -->/g;

/** The markdown with every options block regenerated; throws on a block naming no command. */
export async function renderOptionBlocks(markdown: string): Promise<string> {
  const byName = new Map((await allSpecs()).map((s) => [s.name, s]));
  return markdown.replace(BLOCK, (_m, name: string) => {
    const spec = byName.get(name);
    if (!spec) throw new Error(`docs: no command "${name}"`);
    return `<!-- options: ${name} -->\n\`\`\`text\n${optionsText(spec)}\n\`\`\`\n<!-- /options -->`;
  });
}

/** Names of the commands that have an options block in the markdown. */
export function documentedCommands(markdown: string): string[] {
  return [...markdown.matchAll(BLOCK)].map((m) => m[1] as string);
}
