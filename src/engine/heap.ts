/**
 * A binary min-heap with a strict total order supplied by the caller. Waiting queues
 * hold thousands of requests at high load, so admission pops in O(log q) instead of
 * sorting the queue every round.
 */
export class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(x: T): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p] as T;
      if (!this.less(x, parent)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = x;
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    const n = a.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let child = a[l] as T;
      if (r < n) {
        const rc = a[r] as T;
        if (this.less(rc, child)) {
          c = r;
          child = rc;
        }
      }
      if (!this.less(child, last)) break;
      a[i] = child;
      i = c;
    }
    a[i] = last;
    return top;
  }

  /** Every element, in no particular order (for inspection and tests). */
  toArray(): T[] {
    return this.items.slice();
  }
}
