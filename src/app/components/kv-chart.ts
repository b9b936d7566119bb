/**
 * One Chart.js chart. Only the Chart.js pieces used here are registered (tree-shaken);
 * this module is loaded on demand. Colours follow the page theme (CSS custom
 * properties), animation is off, and axes always carry a title with units.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartDataset,
} from 'chart.js';
import { LitElement, css, html, type PropertyValues, type TemplateResult } from 'lit';
import { PALETTE } from '../colors.ts';
import { cssProps } from '../css-props.ts';
import { base } from '../theme.ts';

Chart.register(
  LineController,
  LineElement,
  PointElement,
  BarController,
  BarElement,
  LinearScale,
  LogarithmicScale,
  CategoryScale,
  Legend,
  Tooltip,
);

export { PALETTE };

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumSignificantDigits: 3 });
const plain = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });

/**
 * Log-axis ticks: only 1, 2 and 5 per decade, written short (`10M`, `0.001`, `1e-6`),
 * never Chart.js's `10,000,000.0`.
 */
export function logTick(value: number | string): string {
  const v = Number(value);
  if (!(v > 0)) return '';
  const mantissa = Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9));
  if (mantissa !== 1 && mantissa !== 2 && mantissa !== 5) return '';
  if (v >= 1e4) return compact.format(v);
  if (v >= 1e-4) return plain.format(v);
  return v.toExponential(0);
}

/**
 * Charts are drawn one per macrotask, so that a view with several charts never blocks
 * the main thread for their sum (keeps every task short while results arrive).
 */
let drawQueue: Promise<void> = Promise.resolve();
function scheduleDraw(draw: () => void): void {
  drawQueue = drawQueue.then(
    () =>
      new Promise<void>((resolve) => {
        setTimeout(() => {
          try {
            draw();
          } finally {
            resolve();
          }
        }, 0);
      }),
  );
}

export interface LineSeries {
  label: string;
  points: { x: number; y: number }[];
  color?: string;
  dashed?: boolean;
  /** A dash pattern (overrides `dashed`): tells apart the runs of one policy in an overlay. */
  dash?: number[];
  stepped?: boolean;
  showPoints?: boolean;
  /** Points only, no connecting line (a scatter series). */
  scatter?: boolean;
  pointStyle?: 'circle' | 'triangle' | 'rect' | 'rectRot' | 'crossRot';
}

/** One group of bars (a dataset) in a grouped bar chart; null: no bar. */
export interface BarSeries {
  label: string;
  values: (number | null)[];
}

export type ChartSpec =
  | {
      kind: 'line';
      title: string;
      xLabel: string;
      yLabel: string;
      series: LineSeries[];
      yMin?: number;
      yMax?: number;
      xMin?: number;
      xMax?: number;
      /** Logarithmic x axis (points at x ≤ 0 are left out). */
      logX?: boolean;
      /** Plot height (CSS), default 19rem. */
      height?: string;
      /** Show the legend (default true). */
      legend?: boolean;
    }
  | {
      kind: 'bar';
      title: string;
      xLabel: string;
      yLabel: string;
      labels: string[];
      values: number[];
      colors?: string[];
    }
  | {
      kind: 'bars';
      title: string;
      xLabel: string;
      yLabel: string;
      labels: string[];
      series: BarSeries[];
      logY?: boolean;
      yMin?: number;
      yMax?: number;
    };

export class KvChart extends LitElement {
  static override properties = { spec: { attribute: false }, lazy: { type: Boolean } };
  declare spec: ChartSpec | undefined;
  /** Draw only once the chart comes near the viewport. */
  declare lazy: boolean;

  constructor() {
    super();
    this.lazy = false;
  }
  private chart: Chart | undefined;

  private themeColor(name: string, fallback: string): string {
    const v = getComputedStyle(this).getPropertyValue(name).trim();
    return v || fallback;
  }

  private config(spec: ChartSpec): ChartConfiguration {
    const fg = this.themeColor('--fg', '#1b1f24');
    const muted = this.themeColor('--muted', '#57606a');
    const grid = this.themeColor('--line', '#d0d7de');
    const axis = (title: string, type: 'linear' | 'logarithmic' | 'category', extra: Record<string, number> = {}) => ({
      type,
      ...extra,
      title: { display: true, text: title, color: fg, font: { size: 13, weight: 600 } },
      ticks: {
        color: muted,
        font: { size: 12 },
        ...(type === 'logarithmic' ? { callback: logTick, autoSkip: false } : {}),
      },
      grid: { color: grid },
      border: { color: grid },
    });
    const plugins = {
      // Line swatches for lines (a dashed capacity line reads as a dashed line, not a blotch).
      legend: {
        display: spec.kind !== 'bar' && !(spec.kind === 'line' && spec.legend === false),
        position: 'bottom' as const,
        labels: { color: fg, boxWidth: 24, font: { size: 12 }, usePointStyle: spec.kind === 'line' },
      },
      tooltip: { intersect: false },
      title: { display: false },
    };
    if (spec.kind === 'bar') {
      return {
        type: 'bar',
        data: {
          labels: spec.labels,
          datasets: [
            {
              label: spec.yLabel,
              data: spec.values,
              backgroundColor: spec.colors ?? spec.labels.map((_, i) => PALETTE[i % PALETTE.length] as string),
            },
          ],
        },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          plugins,
          scales: { x: axis(spec.xLabel, 'category'), y: axis(spec.yLabel, 'linear', { min: 0 }) },
        },
      };
    }
    if (spec.kind === 'bars') {
      return {
        type: 'bar',
        data: {
          labels: spec.labels,
          datasets: spec.series.map((s, i) => ({
            label: s.label,
            data: s.values,
            backgroundColor: PALETTE[i % PALETTE.length] as string,
          })),
        },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          plugins,
          scales: {
            x: axis(spec.xLabel, 'category'),
            y: spec.logY
              ? axis(spec.yLabel, 'logarithmic', {
                  ...(spec.yMin !== undefined ? { min: spec.yMin } : {}),
                  ...(spec.yMax !== undefined ? { max: spec.yMax } : {}),
                })
              : axis(spec.yLabel, 'linear', { min: 0 }),
          },
        },
      } as ChartConfiguration;
    }
    const datasets: ChartDataset<'line', { x: number; y: number }[]>[] = spec.series.map((s, i) => {
      const color = s.color ?? (PALETTE[i % PALETTE.length] as string);
      return {
        label: s.label,
        data: spec.logX ? s.points.filter((p) => p.x > 0) : s.points,
        borderColor: color,
        backgroundColor: color,
        borderWidth: 2,
        borderDash: s.dash ?? (s.dashed ? [6, 4] : []),
        pointRadius: s.showPoints || s.scatter ? 3 : 0,
        pointStyle: s.showPoints || s.scatter ? (s.pointStyle ?? 'circle') : 'line',
        showLine: !s.scatter,
        stepped: s.stepped ? 'before' : false,
        tension: 0,
      };
    });
    const yExtra: Record<string, number> = {};
    if (spec.yMin !== undefined) yExtra.min = spec.yMin;
    if (spec.yMax !== undefined) yExtra.max = spec.yMax;
    const xExtra: Record<string, number> = {};
    if (spec.xMin !== undefined && !spec.logX) xExtra.min = spec.xMin;
    if (spec.xMax !== undefined) xExtra.max = spec.xMax;
    return {
      type: 'line',
      data: { datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', intersect: false },
        plugins,
        scales: {
          x: axis(spec.xLabel, spec.logX ? 'logarithmic' : 'linear', xExtra),
          y: axis(spec.yLabel, 'linear', yExtra),
        },
      },
    } as ChartConfiguration;
  }

  /** Set when the chart first comes near the viewport (lazy charts draw only then). */
  private seen = false;
  private observer: IntersectionObserver | undefined;

  protected override updated(changed: PropertyValues<this>): void {
    if (!changed.has('spec')) return;
    this.chart?.destroy();
    this.chart = undefined;
    delete this.dataset.drawn;
    if (this.lazy && !this.seen && typeof IntersectionObserver === 'function') {
      // Many small charts (one per policy): draw each when it scrolls near the viewport,
      // so that a finished run never draws them all on the main thread at once.
      this.observer ??= new IntersectionObserver(
        (entries) => {
          if (!entries.some((e) => e.isIntersecting)) return;
          this.seen = true;
          this.observer?.disconnect();
          this.observer = undefined;
          this.draw();
        },
        { rootMargin: '200px' },
      );
      this.observer.observe(this);
      return;
    }
    this.draw();
  }

  private draw(): void {
    const spec = this.spec;
    scheduleDraw(() => {
      const canvas = this.renderRoot.querySelector('canvas');
      if (!canvas || !spec || spec !== this.spec || !this.isConnected) return;
      this.chart?.destroy();
      const config = this.config(spec);
      // An opaque background, so that a downloaded PNG reads like the page.
      const surface = this.themeColor('--surface', '#ffffff');
      config.plugins = [
        {
          id: 'kv-background',
          beforeDraw: (c: Chart) => {
            c.ctx.save();
            c.ctx.fillStyle = surface;
            c.ctx.fillRect(0, 0, c.width, c.height);
            c.ctx.restore();
          },
        },
      ];
      this.chart = new Chart(canvas, config);
      // Which colour each series got (read by tests and handy when debugging).
      const colors: Record<string, unknown> = {};
      const ds = config.data.datasets;
      if (spec.kind === 'bar')
        spec.labels.forEach((l, i) => (colors[l] = (ds[0]?.backgroundColor as unknown[] | undefined)?.[i]));
      else ds.forEach((d) => (colors[String(d.label)] = d.backgroundColor));
      this.dataset.colors = JSON.stringify(colors);
      this.dataset.drawn = 'true';
    });
  }

  override disconnectedCallback(): void {
    this.observer?.disconnect();
    this.observer = undefined;
    this.chart?.destroy();
    this.chart = undefined;
    super.disconnectedCallback();
  }

  /** Downloads the chart as a PNG named after its title. */
  private downloadPng(): void {
    if (!this.chart) return;
    const a = document.createElement('a');
    a.href = this.chart.toBase64Image('image/png');
    a.download = `kvsched-${(this.spec?.title ?? 'chart')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')}.png`;
    document.body.append(a);
    a.click();
    a.remove();
  }

  override render(): TemplateResult {
    return html`<figure>
      <figcaption><span>${this.spec?.title ?? ''}</span>
        <button class="png" data-testid="chart-png" aria-label="Download the chart ${this.spec?.title ?? ''} as PNG" @click=${() => this.downloadPng()}>PNG</button></figcaption>
      <div class="box" ${cssProps({ height: this.spec?.kind === 'line' && this.spec.height ? this.spec.height : undefined })}><canvas role="img" aria-label=${this.spec?.title ?? 'chart'}></canvas></div>
    </figure>`;
  }

  static override styles = [
    base,
    css`
      figure {
        margin: 0;
      }
      figcaption {
        font-weight: 600;
        margin-bottom: 0.35rem;
        display: flex;
        justify-content: space-between;
        align-items: baseline;
        gap: 0.5rem;
      }
      button.png {
        font-size: 0.75rem;
        font-weight: 400;
        padding: 0.05rem 0.45rem;
      }
      .box {
        position: relative;
        height: 19rem;
      }
    `,
  ];
}

customElements.define('kv-chart', KvChart);
