/** Results table: one row per policy, numeric columns right-aligned in tabular digits. */
import { LitElement, css, html, type TemplateResult } from 'lit';
import type { RunSummary } from '../../metrics/summary.ts';
import type { ExperimentResult } from '../../worker/protocol.ts';
import { fixed, int, runErrorText } from '../format.ts';
import { base } from '../theme.ts';

export interface Column {
  key: keyof RunSummary;
  label: string;
  decimals: number;
  title: string;
}

export class KvResultsTable extends LitElement {
  static override properties = { result: { attribute: false }, costModelLabel: { attribute: false } };
  declare result: ExperimentResult | undefined;
  /** The cost model's name as the user knows it (a profile's name rather than its record id). */
  declare costModelLabel: string | undefined;

  /**
   * One precision per column (latencies: ms in seconds mode, 0.1 round in rounds mode),
   * a unit in every header, energy in kJ. In rounds mode a round is one time unit, but
   * its energy is still the cost model's round time at busy power, with no idle time.
   */
  static columns(mode: 'seconds' | 'rounds'): Column[] {
    const unit = mode === 'seconds' ? 's' : 'rounds';
    const d = mode === 'seconds' ? 3 : 1;
    const cols: Column[] = [
      { key: 'meanLatency', label: `mean latency (${unit})`, decimals: d, title: 'completion − arrival, mean' },
      { key: 'p50Latency', label: `p50 latency (${unit})`, decimals: d, title: 'latency, median' },
      { key: 'p90Latency', label: `p90 latency (${unit})`, decimals: d, title: 'latency, 90th percentile' },
      { key: 'p99Latency', label: `p99 latency (${unit})`, decimals: d, title: 'latency, 99th percentile' },
      { key: 'meanTtft', label: `mean TTFT (${unit})`, decimals: d, title: 'time to first token, mean' },
      { key: 'p99Ttft', label: `p99 TTFT (${unit})`, decimals: d, title: 'time to first token, 99th percentile' },
      {
        key: 'throughput',
        label: `throughput (tokens/${mode === 'seconds' ? 's' : 'round'})`,
        decimals: 1,
        title: 'output tokens per time unit over the makespan',
      },
      { key: 'evictions', label: 'evictions (count)', decimals: 0, title: 'evictions (requests restarted)' },
      { key: 'peakKv', label: 'peak KV (tokens)', decimals: 0, title: 'peak KV tokens in use' },
    ];
    cols.push(
      mode === 'seconds'
        ? {
            key: 'energyJoules',
            label: 'energy (kJ)',
            decimals: 1,
            title: '2× A100: 400 W per GPU while a round runs, 60 W idle',
          }
        : {
            key: 'energyJoules',
            label: 'busy energy (kJ)',
            decimals: 1,
            title: 'each round at the cost model’s time and 2× 400 W; no idle energy in rounds mode',
          },
    );
    return cols;
  }

  /** A cell's text (energy is stored in J and shown in kJ). */
  static cellText(c: Column, v: number): string {
    return c.key === 'energyJoules' ? fixed(v / 1000, c.decimals) : c.decimals === 0 ? int(v) : fixed(v, c.decimals);
  }

  override render(): TemplateResult {
    const r = this.result;
    if (!r) return html``;
    const cols = KvResultsTable.columns(r.mode);
    const ok = r.runs.filter((x) => x.ok);
    const best = ok.length > 1 ? Math.min(...ok.map((x) => x.summary.meanLatency)) : Number.NaN;
    return html`<div class="scroll" tabindex="0" role="region" aria-label="Results per policy (scrolls sideways when narrow)"><table data-testid="results">
      <thead>
        <tr><th>policy</th>${cols.map((c) => html`<th class="num" title=${c.title}>${c.label}</th>`)}</tr>
      </thead>
      <tbody>
        ${r.runs.map((run) =>
          run.ok
            ? html`<tr data-policy=${run.policy}>
                <td><code>${run.policy}</code></td>
                ${cols.map((c) => {
                  const v = run.summary[c.key];
                  const shown = KvResultsTable.cellText(c, v);
                  const isBest = c.key === 'meanLatency' && v === best;
                  return html`<td class="num ${isBest ? 'best' : ''}" data-key=${c.key} data-value=${String(v)}>${shown}</td>`;
                })}
              </tr>`
            : html`<tr data-policy=${run.policy} class="failed"><td><code>${run.policy}</code></td><td colspan=${cols.length} class="err" data-testid="policy-error">${runErrorText(run.error, r.mode)}</td></tr>`,
        )}
      </tbody>
    </table></div>
    <p class="muted foot">${r.description}; M = ${int(r.memory)} tokens; cost model: ${this.costModelLabel ?? r.costModel}; engine wall time ${fixed(r.wallMs / 1000, 2)} s.${r.mode === 'rounds' ? ' Rounds mode: energy counts each round at the cost model’s duration and that cost model’s busy power (2× 400 W for the A100, a profile’s own for a profile); rounds have no idle time, so none is counted.' : ''}</p>`;
  }

  static override styles = [
    base,
    css`
      .scroll {
        overflow-x: auto;
      }
      table {
        width: 100%;
      }
      th,
      th.num {
        white-space: normal;
        vertical-align: bottom;
      }
      th,
      td {
        padding: 0.3rem 0.5rem;
      }
      td:first-child {
        white-space: nowrap;
      }
      td.best {
        font-weight: 700;
        color: var(--ok);
      }
      .err {
        color: var(--bad);
      }
      .foot {
        font-size: 0.85rem;
      }
    `,
  ];
}

customElements.define('kv-results-table', KvResultsTable);
