/**
 * The charts of one experiment: latency CDF (linear or log x), KV use over time (one
 * overlaid chart for up to three policies, small multiples above that, each with the
 * capacity line), mean latency by policy. Policies keep their colours (colors.ts).
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { ExperimentResult, PolicyRun } from '../../worker/protocol.ts';
import { policyColor } from '../colors.ts';
import { int } from '../format.ts';
import { base } from '../theme.ts';
import './kv-chart.ts';
import type { ChartSpec, LineSeries } from './kv-chart.ts';

type OkRun = Extract<PolicyRun, { ok: true }>;

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above x: shared axis ends with round ticks. */
function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/** Above this many policies the KV chart becomes small multiples. */
const OVERLAY_MAX = 3;
const CAPACITY_COLOR = '#B3261E';

export class KvResultCharts extends LitElement {
  static override properties = { result: { attribute: false }, logX: { state: true } };
  declare result: ExperimentResult | undefined;
  declare logX: boolean;

  constructor() {
    super();
    this.logX = false;
  }

  private static zip(x: number[], y: number[]): { x: number; y: number }[] {
    return x.map((v, i) => ({ x: v, y: y[i] as number }));
  }

  private cdfSpec(_r: ExperimentResult, ok: OkRun[], unit: string): ChartSpec {
    return {
      kind: 'line',
      title: 'Latency CDF',
      xLabel: `latency (${unit}${this.logX ? ', log scale' : ''})`,
      yLabel: 'fraction of requests ≤ latency',
      yMin: 0,
      yMax: 1,
      xMin: 0,
      logX: this.logX,
      series: ok.map((x) => ({
        label: x.policy,
        points: KvResultCharts.zip(x.cdf.x, x.cdf.y),
        stepped: true,
        color: policyColor(x.policy),
      })),
    };
  }

  /** TBT CDF over every gap between consecutive tokens (in ms in seconds mode, as the token table). */
  private tbtSpec(ok: OkRun[], mode: 'seconds' | 'rounds'): ChartSpec {
    const unit = mode === 'seconds' ? 'ms' : 'rounds';
    const f = mode === 'seconds' ? 1000 : 1;
    return {
      kind: 'line',
      title: 'Time between tokens (TBT) CDF',
      xLabel: `time between consecutive tokens (${unit}${this.logX ? ', log scale' : ''})`,
      yLabel: 'fraction of gaps ≤ TBT',
      yMin: 0,
      yMax: 1,
      xMin: 0,
      logX: this.logX,
      series: ok.flatMap((x) =>
        x.tbtCdf && x.tbtCdf.x.length > 0
          ? [
              {
                label: x.policy,
                points: KvResultCharts.zip(
                  x.tbtCdf.x.map((v) => v * f),
                  x.tbtCdf.y,
                ),
                stepped: true,
                color: policyColor(x.policy),
              },
            ]
          : [],
      ),
    };
  }

  private kvSpecs(r: ExperimentResult, ok: OkRun[], unit: string): ChartSpec[] {
    const tEnd = niceCeil(Math.max(0, ...ok.map((x) => x.kv.x[x.kv.x.length - 1] ?? 0)));
    const yMax = niceCeil(Math.max(r.memory, ...ok.map((x) => Math.max(0, ...x.kv.y))) * 1.05);
    const capacity: LineSeries = {
      label: `capacity M = ${int(r.memory)}`,
      points: [
        { x: 0, y: r.memory },
        { x: tEnd, y: r.memory },
      ],
      color: CAPACITY_COLOR,
      dashed: true,
    };
    const line = (x: OkRun): LineSeries => ({
      label: x.policy,
      points: KvResultCharts.zip(x.kv.x, x.kv.y),
      stepped: true,
      color: policyColor(x.policy),
    });
    if (ok.length <= OVERLAY_MAX) {
      return [
        {
          kind: 'line',
          title: 'KV cache in use over time (peak per time bucket)',
          xLabel: `time (${unit})`,
          yLabel: 'KV in use (tokens)',
          yMin: 0,
          yMax,
          xMin: 0,
          xMax: tEnd,
          series: [...ok.map(line), capacity],
        },
      ];
    }
    return ok.map((x) => ({
      kind: 'line',
      title: x.policy,
      xLabel: `time (${unit})`,
      yLabel: 'KV (tokens)',
      yMin: 0,
      yMax,
      xMin: 0,
      xMax: tEnd,
      height: '11rem',
      legend: false,
      series: [line(x), capacity],
    }));
  }

  private barSpec(ok: OkRun[], unit: string): ChartSpec {
    return {
      kind: 'bar',
      title: 'Mean latency by policy',
      xLabel: 'policy',
      yLabel: `mean latency (${unit})`,
      labels: ok.map((x) => x.policy),
      values: ok.map((x) => x.summary.meanLatency),
      colors: ok.map((x) => policyColor(x.policy)),
    };
  }

  override render(): TemplateResult {
    const r = this.result;
    if (!r) return html``;
    const unit = r.mode === 'seconds' ? 's' : 'rounds';
    const ok = r.runs.filter((x): x is OkRun => x.ok);
    const gpu = r.engine === 'gpu';
    const kv = this.kvSpecs(r, ok, unit);
    const bar = html`<kv-chart class="card" data-testid="bar-chart" .spec=${this.barSpec(ok, unit)}></kv-chart>`;
    const replicas = ok.length > 0 && ok.every((x) => x.replicas !== undefined);
    const multiples = !gpu && !replicas && kv.length > 1;
    const tbt = ok.some((x) => x.tbtCdf && x.tbtCdf.x.length > 0);
    return html`<div class="grid">
      <div class="card">
        <kv-chart data-testid="cdf-chart" .spec=${this.cdfSpec(r, ok, unit)}></kv-chart>
        <label class="toggle"><input type="checkbox" name="cdf-log" .checked=${this.logX} @change=${(e: Event) => (this.logX = (e.target as HTMLInputElement).checked)} /> log-scale time axes (latency and TBT: shows the short times and the tail together)</label>
      </div>
      ${
        tbt
          ? html`<div class="card"><kv-chart data-testid="tbt-chart" .spec=${this.tbtSpec(ok, r.mode)}></kv-chart>
            <p class="muted small">Every gap between two consecutive tokens of a request, pooled over all requests${ok.some((x) => !x.tbtCdf) ? '; policies without recorded gaps are left out' : ''}.</p></div>`
          : html`<div class="card na" data-testid="tbt-chart-na"><h4>Time between tokens (TBT) CDF</h4><p class="muted">Not available: ${
              gpu
                ? 'the GPU engine records no per-token times. Run on the CPU engine for TBT.'
                : ok.length === 0
                  ? 'no policy finished.'
                  : 'this run has no recorded gaps between tokens (runs stored before token metrics, or over 200,000 requests).'
            }</p></div>`
      }
      ${multiples ? bar : nothing}
      ${
        gpu || replicas
          ? html`<div class="card na" data-testid="kv-chart-na"><h4>KV cache in use over time</h4><p class="muted">${
              gpu
                ? 'Not available with the GPU engine: it keeps no per-round timeline (and no per-request energy).'
                : 'Not available with replicas: each replica has its own KV cache and its own rounds (see the per-replica peak KV in the table).'
            }</p></div>`
          : kv.length === 1
            ? html`<kv-chart class="card" data-testid="kv-chart" .spec=${kv[0]}></kv-chart>`
            : html`<section class="card wide" data-testid="kv-multiples">
              <h4>KV cache in use over time (peak per time bucket), one chart per policy</h4>
              <p class="muted small">Same axes in every chart; the dashed red line is the capacity M = ${int(r.memory)} tokens.</p>
              <div class="multiples">${kv.map((s) => html`<kv-chart data-testid="kv-chart" lazy .spec=${s}></kv-chart>`)}</div>
            </section>`
      }
      ${multiples ? nothing : bar}
    </div>`;
  }

  static override styles = [
    base,
    css`
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(min(30rem, 100%), 1fr));
        gap: 1rem;
      }
      .wide {
        grid-column: 1 / -1;
      }
      .multiples {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(min(17rem, 100%), 1fr));
        gap: 0.75rem 1rem;
      }
      h4 {
        margin: 0 0 0.25rem;
      }
      .small {
        font-size: 0.85rem;
      }
      .card {
        margin: 0;
      }
      .toggle {
        display: flex;
        gap: 0.4rem;
        align-items: center;
        font-size: 0.88rem;
        margin-top: 0.4rem;
      }
    `,
  ];
}

customElements.define('kv-result-charts', KvResultCharts);
