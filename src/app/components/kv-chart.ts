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
import { base } from '../theme.ts';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, LinearScale, LogarithmicScale, CategoryScale, Legend, Tooltip);

/** Okabe–Ito colours (distinguishable with colour-vision deficiencies), yellow last. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#8C8C8C', '#B8A000'];

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
  | { kind: 'line'; title: string; xLabel: string; yLabel: string; series: LineSeries[]; yMin?: number; yMax?: number; xMin?: number; xMax?: number }
  | { kind: 'bar'; title: string; xLabel: string; yLabel: string; labels: string[]; values: number[] }
  | { kind: 'bars'; title: string; xLabel: string; yLabel: string; labels: string[]; series: BarSeries[]; logY?: boolean; yMin?: number; yMax?: number };

export class KvChart extends LitElement {
  static override properties = { spec: { attribute: false } };
  declare spec: ChartSpec | undefined;
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
      ticks: { color: muted, font: { size: 12 } },
      grid: { color: grid },
      border: { color: grid },
    });
    const plugins = {
      legend: { display: spec.kind !== 'bar', position: 'bottom' as const, labels: { color: fg, boxWidth: 14, font: { size: 12 } } },
      tooltip: { intersect: false },
      title: { display: false },
    };
    if (spec.kind === 'bar') {
      return {
        type: 'bar',
        data: {
          labels: spec.labels,
          datasets: [{ label: spec.yLabel, data: spec.values, backgroundColor: spec.labels.map((_, i) => PALETTE[i % PALETTE.length] as string) }],
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
          datasets: spec.series.map((s, i) => ({ label: s.label, data: s.values, backgroundColor: PALETTE[i % PALETTE.length] as string })),
        },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          plugins,
          scales: { x: axis(spec.xLabel, 'category'), y: spec.logY
            ? axis(spec.yLabel, 'logarithmic', { ...(spec.yMin !== undefined ? { min: spec.yMin } : {}), ...(spec.yMax !== undefined ? { max: spec.yMax } : {}) })
            : axis(spec.yLabel, 'linear', { min: 0 }) },
        },
      } as ChartConfiguration;
    }
    const datasets: ChartDataset<'line', { x: number; y: number }[]>[] = spec.series.map((s, i) => {
      const color = s.color ?? (PALETTE[i % PALETTE.length] as string);
      return {
        label: s.label,
        data: s.points,
        borderColor: color,
        backgroundColor: color,
        borderWidth: 2,
        borderDash: s.dashed ? [6, 4] : [],
        pointRadius: s.showPoints || s.scatter ? 3 : 0,
        pointStyle: s.pointStyle ?? 'circle',
        showLine: !s.scatter,
        stepped: s.stepped ? 'before' : false,
        tension: 0,
      };
    });
    const yExtra: Record<string, number> = {};
    if (spec.yMin !== undefined) yExtra.min = spec.yMin;
    if (spec.yMax !== undefined) yExtra.max = spec.yMax;
    const xExtra: Record<string, number> = {};
    if (spec.xMin !== undefined) xExtra.min = spec.xMin;
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
        scales: { x: axis(spec.xLabel, 'linear', xExtra), y: axis(spec.yLabel, 'linear', yExtra) },
      },
    } as ChartConfiguration;
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (!changed.has('spec')) return;
    this.chart?.destroy();
    this.chart = undefined;
    const spec = this.spec;
    scheduleDraw(() => {
      const canvas = this.renderRoot.querySelector('canvas');
      if (!canvas || !spec || spec !== this.spec || !this.isConnected) return;
      this.chart?.destroy();
      this.chart = new Chart(canvas, this.config(spec));
      this.dataset.drawn = 'true';
    });
  }

  override disconnectedCallback(): void {
    this.chart?.destroy();
    this.chart = undefined;
    super.disconnectedCallback();
  }

  override render(): TemplateResult {
    return html`<figure>
      <figcaption>${this.spec?.title ?? ''}</figcaption>
      <div class="box"><canvas role="img" aria-label=${this.spec?.title ?? 'chart'}></canvas></div>
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
      }
      .box {
        position: relative;
        height: 19rem;
      }
    `,
  ];
}

customElements.define('kv-chart', KvChart);
