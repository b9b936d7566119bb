/** The charts of one experiment: latency CDF, KV use over time, mean latency by policy. */
import { LitElement, css, html, type TemplateResult } from 'lit';
import type { ExperimentResult } from '../../worker/protocol.ts';
import { base } from '../theme.ts';
import './kv-chart.ts';
import type { ChartSpec } from './kv-chart.ts';

export class KvResultCharts extends LitElement {
  static override properties = { result: { attribute: false } };
  declare result: ExperimentResult | undefined;

  private specs(r: ExperimentResult): ChartSpec[] {
    const unit = r.mode === 'seconds' ? 's' : 'rounds';
    const ok = r.runs.filter((x) => x.ok);
    const zip = (x: number[], y: number[]) => x.map((v, i) => ({ x: v, y: y[i] as number }));
    const tEnd = Math.max(0, ...ok.map((x) => x.kv.x[x.kv.x.length - 1] ?? 0));
    return [
      {
        kind: 'line',
        title: 'Latency CDF',
        xLabel: `latency (${unit})`,
        yLabel: 'fraction of requests ≤ latency',
        yMin: 0,
        yMax: 1,
        xMin: 0,
        series: ok.map((x) => ({ label: x.policy, points: zip(x.cdf.x, x.cdf.y), stepped: true })),
      },
      {
        kind: 'line',
        title: 'KV cache in use over time (peak per time bucket)',
        xLabel: `time (${unit})`,
        yLabel: 'KV in use (tokens)',
        yMin: 0,
        xMin: 0,
        series: [
          ...ok.map((x) => ({ label: x.policy, points: zip(x.kv.x, x.kv.y), stepped: true })),
          { label: `capacity M = ${r.memory}`, points: [{ x: 0, y: r.memory }, { x: tEnd, y: r.memory }], color: '#B3261E', dashed: true },
        ],
      },
      {
        kind: 'bar',
        title: 'Mean latency by policy',
        xLabel: 'policy',
        yLabel: `mean latency (${unit})`,
        labels: ok.map((x) => x.policy),
        values: ok.map((x) => x.summary.meanLatency),
      },
    ];
  }

  override render(): TemplateResult {
    const r = this.result;
    if (!r) return html``;
    const gpu = r.engine === 'gpu';
    return html`<div class="grid">${this.specs(r).map((s, i) =>
      gpu && i === 1
        ? html`<div class="card na" data-testid="kv-chart-na"><h4>KV cache in use over time</h4><p class="muted">Not available with the GPU engine: it keeps no per-round timeline (and no per-request energy).</p></div>`
        : html`<kv-chart class="card" .spec=${s}></kv-chart>`)}</div>`;
  }

  static override styles = [
    base,
    css`
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(30rem, 1fr));
        gap: 1rem;
      }
      kv-chart {
        margin: 0;
      }
    `,
  ];
}

customElements.define('kv-result-charts', KvResultCharts);
