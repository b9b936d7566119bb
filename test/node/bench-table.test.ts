/**
 * docs/benchmarks.md's table is generated from bench/results/*.json (scripts/bench-table.ts):
 * this fails when a results file changed and `npm run docs:bench` was not rerun, when a
 * benchmark writes a file nobody summarises, and when a summarised field disappears.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  BEGIN,
  DOC,
  END,
  expectedDoc,
  readResults,
  renderBenchTable,
  replaceBlock,
} from '../../scripts/bench-table.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('docs/benchmarks.md', () => {
  it('its generated table matches bench/results/*.json (run `npm run docs:bench` after a benchmark)', () => {
    expect(readFileSync(resolve(ROOT, DOC), 'utf8')).toBe(expectedDoc(ROOT));
  });

  it('a changed number changes the table', () => {
    const files = readResults(ROOT);
    const before = renderBenchTable(files);
    const app = structuredClone(files.get('app.json')) as { shell: { medianMs: number } };
    app.shell.medianMs += 1000;
    files.set('app.json', app);
    expect(renderBenchTable(files)).not.toBe(before);
  });

  it('a results file without a summariser, or a missing field, is an error naming it', () => {
    const files = readResults(ROOT);
    files.set('new-bench.json', {});
    expect(() => renderBenchTable(files)).toThrow('bench/results/new-bench.json');
    files.delete('new-bench.json');
    files.set('app.json', { date: '2026-01-01' });
    expect(() => renderBenchTable(files)).toThrow('app.json: missing field');
  });

  it('replaces only the block between the markers, which must be present once', () => {
    const doc = `intro\n${BEGIN}\nold\n${END}\noutro\n`;
    expect(replaceBlock(doc, `${BEGIN}\nnew\n${END}`)).toBe(`intro\n${BEGIN}\nnew\n${END}\noutro\n`);
    expect(() => replaceBlock('no markers', 'x')).toThrow('markers');
    expect(() => replaceBlock(`${BEGIN}${BEGIN}${END}`, 'x')).toThrow('markers');
  });
});
