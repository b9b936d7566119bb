/**
 * Stored runs side by side (History → Compare): where their configurations differ
 * (highlighted), one table of every policy in every run, the latency CDFs overlaid
 * (colour: policy, dash: run) and mean latency by policy grouped by run. Loaded on
 * demand with the charts.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { PolicyRun } from '../../worker/protocol.ts';
import { policyColor } from '../colors.ts';
import { configDifferences, type ExperimentConfig } from '../config.ts';
import { fixed, int } from '../format.ts';
import type { RunRecordData } from '../records.ts';
import { base } from '../theme.ts';
import './kv-chart.ts';
import type { ChartSpec, LineSeries } from './kv-chart.ts';

export interface ComparedRun {
  id: string;
  title: string;
  data: Extract<RunRecordData, { type: 'experiment' }>;
}

type OkRun = Extract<PolicyRun, { ok: true }>;

const DASHES: number[][] = [[], [7, 4], [2, 3], [10, 3, 2, 3], [4, 6]];

export class KvRunCompare extends LitElement {
  static override properties = { runs: { attribute: false }, costModelLabel: { attribute: false } };
  declare runs: ComparedRun[];
  /** Names a cost model as the user knows it (a profile's title). */
  declare costModelLabel: (name: string) => string;

  constructor() {
    super();
    this.runs = [];
    this.costModelLabel = (n) => n;
  }

  private tag(i: number): string {
    return `run ${i + 1}`;
  }

  override render(): TemplateResult {
    const runs = this.runs;
    if (runs.length < 2) return html``;
    const diffs = configDifferences(
      runs.map((r) => r.data.config as ExperimentConfig),
      (n) => this.costModelLabel(n),
    );
    const modes = new Set(runs.map((r) => r.data.result.mode));
    const unitOf = (r: ComparedRun) => (r.data.result.mode === 'seconds' ? 's' : 'rounds');
    const policies = [...new Set(runs.flatMap((r) => r.data.result.runs.map((x) => x.policy)))];
    const cdf: ChartSpec = {
      kind: 'line',
      title: 'Latency CDF, every run',
      xLabel: `latency (${modes.size === 1 ? unitOf(runs[0] as ComparedRun) : 'run’s unit'})`,
      yLabel: 'fraction of requests ≤ latency',
      yMin: 0,
      yMax: 1,
      xMin: 0,
      series: runs.flatMap((r, i) =>
        r.data.result.runs
          .filter((x): x is OkRun => x.ok)
          .map((x): LineSeries => ({
            label: `${x.policy} · ${this.tag(i)}`,
            points: x.cdf.x.map((v, k) => ({ x: v, y: x.cdf.y[k] as number })),
            stepped: true,
            color: policyColor(x.policy),
            dash: DASHES[i % DASHES.length] as number[],
          })),
      ),
    };
    const bars: ChartSpec = {
      kind: 'bars',
      title: 'Mean latency by policy, every run',
      xLabel: 'policy',
      yLabel: `mean latency (${modes.size === 1 ? unitOf(runs[0] as ComparedRun) : 'run’s unit'})`,
      labels: policies,
      series: runs.map((r, i) => ({
        label: `${this.tag(i)}: ${r.title}`,
        values: policies.map((p) => {
          const x = r.data.result.runs.find((y) => y.policy === p);
          return x?.ok ? x.summary.meanLatency : null;
        }),
      })),
    };
    return html`<section class="card" data-testid="run-compare">
      <h3>Comparing ${runs.length} runs</h3>
      <ol class="runs">${runs.map((r, i) => html`<li><strong>${this.tag(i)}</strong>: ${r.title}</li>`)}</ol>
      <h4>Configuration</h4>
      ${
        diffs.length === 0
          ? html`<p class="muted" data-testid="compare-same">The runs have the same configuration (a re-run: the numbers should match).</p>`
          : html`<div class="scroll" tabindex="0" role="region" aria-label="Configuration differences"><table data-testid="compare-diffs">
            <thead><tr><th>setting</th>${runs.map((_, i) => html`<th>${this.tag(i)}</th>`)}</tr></thead>
            <tbody>${diffs.map((d) => html`<tr data-field=${d.field}><th scope="row">${d.label}</th>${d.values.map((v) => html`<td class="diff">${v}</td>`)}</tr>`)}</tbody>
          </table></div>`
      }
      ${modes.size > 1 ? html`<p class="notice">These runs mix seconds and rounds mode: latencies are in each run’s own unit and do not compare directly.</p>` : nothing}
      <h4>Results</h4>
      <div class="scroll" tabindex="0" role="region" aria-label="Results of every run"><table data-testid="compare-table">
        <thead><tr><th>policy</th><th>run</th><th class="num">mean latency</th><th class="num">p99 latency</th><th class="num">mean TTFT</th>
          <th class="num">throughput (tokens per time unit)</th><th class="num">evictions (count)</th><th class="num">energy (kJ)</th></tr></thead>
        <tbody>${policies.flatMap((p) =>
          runs.map((r, i) => {
            const x = r.data.result.runs.find((y) => y.policy === p);
            const u = unitOf(r);
            const d = u === 's' ? 3 : 1;
            if (!x)
              return html`<tr data-policy=${p} data-run=${i + 1}><td><code>${p}</code></td><td>${this.tag(i)}</td><td colspan="6" class="muted">not in this run</td></tr>`;
            if (!x.ok)
              return html`<tr data-policy=${p} data-run=${i + 1}><td><code>${p}</code></td><td>${this.tag(i)}</td><td colspan="6" class="err">failed</td></tr>`;
            const s = x.summary;
            return html`<tr data-policy=${p} data-run=${i + 1}><td><code>${p}</code></td><td>${this.tag(i)}</td>
              <td class="num" data-key="meanLatency" data-value=${s.meanLatency}>${fixed(s.meanLatency, d)} ${u}</td>
              <td class="num">${fixed(s.p99Latency, d)} ${u}</td>
              <td class="num">${fixed(s.meanTtft, d)} ${u}</td>
              <td class="num">${fixed(s.throughput, 1)}</td>
              <td class="num">${int(s.evictions)}</td>
              <td class="num">${fixed(s.energyJoules / 1000, 1)}</td></tr>`;
          }),
        )}</tbody>
      </table></div>
      <div class="charts">
        <kv-chart class="card" data-testid="compare-cdf" .spec=${cdf}></kv-chart>
        <kv-chart class="card" data-testid="compare-bars" .spec=${bars}></kv-chart>
      </div>
      <p class="muted small">Colour: policy (the same in every view); line style: run (solid run 1, dashed run 2, dotted run 3, …).</p>
    </section>`;
  }

  static override styles = [
    base,
    css`
      .scroll {
        overflow-x: auto;
      }
      td.diff {
        background: var(--warn-bg);
        font-weight: 600;
      }
      .charts {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(min(30rem, 100%), 1fr));
        gap: 1rem;
        margin-top: 1rem;
      }
      .charts .card {
        margin: 0;
      }
      .runs {
        margin: 0.25rem 0 0.5rem;
      }
      h4 {
        margin: 0.9rem 0 0.3rem;
      }
      .err {
        color: var(--bad);
      }
      .small {
        font-size: 0.85rem;
      }
    `,
  ];
}

customElements.define('kv-run-compare', KvRunCompare);
