/** The engine's result tables (src/engine/results.ts): the chunked round table across chunk boundaries. */
import { describe, expect, it } from 'vitest';
import { RoundTable, type RoundRecord } from '../../src/engine/results.ts';

const row = (i: number): RoundRecord => ({
  round: i,
  start: i * 1.5,
  duration: 0.25 + (i % 7),
  batch: i % 13,
  prefillTokens: (i * 3) % 101,
  decodeRequests: i % 5,
  kv: i * 0.5,
  admitted: i % 2,
  evicted: i % 3,
  waiting: 40_000 - i,
});

describe('RoundTable', () => {
  it('keeps every row across chunks: columns, rows at the chunk boundaries, iteration', () => {
    const n = 40_000; // many 1,024-row chunks
    const t = new RoundTable();
    for (let i = 0; i < n; i++) t.add(row(i));
    expect(t.length).toBe(n);
    const fields = Object.keys(row(0)) as (keyof RoundRecord)[];
    for (const f of fields) {
      const c = t.column(f);
      expect(c.length).toBe(n);
      expect(c instanceof Int32Array, f).toBe(
        ['batch', 'prefillTokens', 'decodeRequests', 'admitted', 'evicted', 'waiting'].includes(f),
      );
      for (const i of [0, 1, 1023, 1024, 1025, 16_383, 16_384, 32_768, n - 1])
        expect(c[i], `${f}[${i}]`).toBe(row(i)[f]);
    }
    for (const i of [0, 16_383, 16_384, 32_768, n - 1]) expect(t.get(i)).toEqual(row(i));
    expect(() => t.get(n)).toThrow(RangeError);
    let k = 0;
    for (const r of t) expect(r.round).toBe(k++);
    expect(k).toBe(n);
  });

  it('an empty table has empty columns of the right types', () => {
    const t = new RoundTable();
    expect(t.column('batch')).toEqual(new Int32Array(0));
    expect(t.column('start')).toEqual(new Float64Array(0));
    expect([...t]).toEqual([]);
  });
});
