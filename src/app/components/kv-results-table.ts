/** Results table: one row per policy, numeric columns right-aligned in tabular digits. */
import { LitElement, css, html, type TemplateResult } from 'lit';
import type { RunSummary } from '../../metrics/summary.ts';
import type { ExperimentResult } from '../../worker/protocol.ts';
import { fixed, int } from '../format.ts';
import { base } from '../theme.ts';

interface Column {
  key: keyof RunSummary;
  label: string;
  decimals: number;
  title: string;
}

export class KvResultsTable extends LitElement {
  static override properties = { result: { attribute: false } };
  declare result: ExperimentResult | undefined;

  private columns(unit: string): Column[] {
    const d = unit === 's' ? 3 : 1;
    return [
      { key: 'meanLatency', label: `mean latency (${unit})`, decimals: d, title: 'completion − arrival, mean' },
      { key: 'p50Latency', label: 'p50', decimals: d, title: 'latency, median' },
      { key: 'p90Latency', label: 'p90', decimals: d, title: 'latency, 90th percentile' },
      { key: 'p99Latency', label: 'p99', decimals: d, title: 'latency, 99th percentile' },
      { key: 'meanTtft', label: `mean TTFT (${unit})`, decimals: d, title: 'time to first token, mean' },
      { key: 'p99Ttft', label: 'p99 TTFT', decimals: d, title: 'time to first token, 99th percentile' },
      { key: 'throughput', label: `tokens/${unit === 's' ? 's' : 'round'}`, decimals: 1, title: 'output tokens per time unit over the makespan' },
      { key: 'evictions', label: 'evictions', decimals: 0, title: 'evictions (requests restarted)' },
      { key: 'peakKv', label: 'peak KV', decimals: 0, title: 'peak KV tokens in use' },
      { key: 'energyJoules', label: 'energy (kJ)', decimals: 1, title: '2× A100: 400 W per GPU while a round runs, 60 W idle' },
    ];
  }

  override render(): TemplateResult {
    const r = this.result;
    if (!r) return html``;
    const unit = r.mode === 'seconds' ? 's' : 'rounds';
    const cols = this.columns(unit);
    const ok = r.runs.filter((x) => x.ok);
    const best = ok.length > 1 ? Math.min(...ok.map((x) => x.summary.meanLatency)) : Number.NaN;
    return html`<div class="scroll"><table data-testid="results">
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
                  const shown = c.key === 'energyJoules' ? fixed(v / 1000, c.decimals) : c.decimals === 0 ? int(v) : fixed(v, c.decimals);
                  const isBest = c.key === 'meanLatency' && v === best;
                  return html`<td class="num ${isBest ? 'best' : ''}" data-key=${c.key} data-value=${String(v)}>${shown}</td>`;
                })}
              </tr>`
            : html`<tr data-policy=${run.policy} class="failed"><td><code>${run.policy}</code></td><td colspan=${cols.length} class="err">${run.errorName}: ${run.error}</td></tr>`,
        )}
      </tbody>
    </table></div>
    <p class="muted foot">${r.description}; M = ${int(r.memory)} tokens; cost model ${r.costModel}; engine wall time ${fixed(r.wallMs / 1000, 2)} s.</p>`;
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
      th {
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
