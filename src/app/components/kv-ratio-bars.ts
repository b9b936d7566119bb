/**
 * Each profile's time per cost-model term relative to the A100 model: log-scale bars with
 * 95 % error bars (SVG, no chart library: chart.js bars have no error bars). A term
 * fitted to zero is drawn as a "0" marker at the axis' foot, not left out; a term the A100
 * model does not have (per decode request, per prefill request) has no ratio: its group is
 * labelled "not in the A100 model" and each profile gets an "n/a" marker whose tooltip gives
 * its own value (µs); a legacy profile (no intervals) has bars without whiskers; the legend
 * names each profile's verdict.
 */
import { LitElement, css, html, svg, type TemplateResult } from 'lit';
import { NOT_IN_A100, TERM_ABSENT, type RatioBar } from '../calibration.ts';
import { cssProps } from '../css-props.ts';
import { base } from '../theme.ts';

/** NOT_IN_A100 on two lines under a term's name (one line overlaps the next group's). */
function notInA100(x: number, y: number, term: string) {
  const cut = NOT_IN_A100.lastIndexOf(' ', NOT_IN_A100.length / 2 + 4);
  return svg`<text x=${x} y=${y} text-anchor="middle" class="tick no-ratio" data-no-ratio-label=${term}><tspan x=${x}>${NOT_IN_A100.slice(0, cut + 1)}</tspan><tspan x=${x} dy="13">${NOT_IN_A100.slice(cut + 1)}</tspan></text>`;
}

const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442'];

export class KvRatioBars extends LitElement {
  static override properties = { data: { attribute: false } };
  declare data: { title: string; verdict: string; bars: RatioBar[] }[];

  constructor() {
    super();
    this.data = [];
  }

  override render(): TemplateResult {
    const data = this.data;
    const terms = data[0]?.bars.map((b) => b.term) ?? [];
    const noRatio = terms.map((_, ti) => data.some((d) => d.bars[ti]?.noRatio));
    const vals = data
      .flatMap((d) => d.bars.filter((b) => !b.noRatio).flatMap((b) => [b.value, ...(b.interval ?? [])]))
      .filter((v) => v > 0 && Number.isFinite(v));
    // Whole decades around the data, always including 1 (as fast as the A100).
    const lo = 10 ** Math.floor(Math.log10(Math.min(1, ...vals)) - 1e-9);
    const hi = 10 ** Math.ceil(Math.log10(Math.max(1, ...vals)) + 1e-9);
    const W = 720;
    const H = 300;
    const m = { l: 64, r: 12, t: 12, b: 62 };
    const ph = H - m.t - m.b;
    const y = (v: number) =>
      m.t + ph * (1 - (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)));
    const groupW = (W - m.l - m.r) / Math.max(1, terms.length);
    const barW = Math.min(36, (groupW * 0.8) / Math.max(1, data.length));
    const decades: number[] = [];
    for (let d = Math.log10(lo); d <= Math.log10(hi) + 1e-9; d++) decades.push(10 ** d);
    const fmt = (v: number) => (v >= 1e4 || v < 1e-2 ? v.toExponential(0) : String(v));
    return html`<figure>
      <figcaption>Time per term relative to the A100 model (Llama-2 70B; > 1: slower; bars: 95 % intervals)</figcaption>
      <svg viewBox="0 0 ${W} ${H}" role="img" aria-label="ratio of each term to the A100 model, log scale, with 95 % intervals" data-testid="ratio-bars">
        ${decades.map(
          (d) => svg`<line x1=${m.l} x2=${W - m.r} y1=${y(d)} y2=${y(d)} class=${d === 1 ? 'one' : 'grid'}></line>
          <text x=${m.l - 6} y=${y(d) + 4} text-anchor="end" class="tick">${fmt(d)}×</text>`,
        )}
        ${terms.map(
          (
            t,
            ti,
          ) => svg`<text x=${m.l + groupW * (ti + 0.5)} y=${H - m.b + 18} text-anchor="middle" class="tick">${t}</text>
          ${noRatio[ti] ? notInA100(m.l + groupW * (ti + 0.5), H - m.b + 32, t) : svg``}`,
        )}
        ${data.map((d, di) =>
          d.bars.map((b, ti) => {
            const x = m.l + groupW * ti + (groupW - barW * data.length) / 2 + di * barW;
            const color = PALETTE[di % PALETTE.length] as string;
            if (b.noRatio) {
              const n = b.noRatio;
              const own =
                n.micros === null
                  ? TERM_ABSENT
                  : `${n.micros.toPrecision(3)} µs${n.interval ? ` [${n.interval[0].toPrecision(3)} – ${n.interval[1].toPrecision(3)}]` : ''} on this device (Llama-2 70B)`;
              return svg`<g data-term=${b.term} data-profile=${di} data-no-ratio=${n.why}><text x=${x + barW / 2} y=${y(lo) - 4} text-anchor="middle" class="zero" fill=${color}>n/a</text>
                <title>${d.title}: ${b.term}: ${NOT_IN_A100}, no ratio; ${own}</title></g>`;
            }
            if (b.zero) {
              return svg`<g data-term=${b.term} data-profile=${di} data-zero="true"><text x=${x + barW / 2} y=${y(lo) - 4} text-anchor="middle" class="zero" fill=${color}>0</text>
                <title>${d.title}: ${b.term} fitted to zero${b.interval ? ` (95 % interval up to ${b.interval[1].toPrecision(3)}×)` : ''}</title></g>`;
            }
            const top = y(b.value);
            const whisker = b.interval
              ? svg`<line class="err" x1=${x + barW / 2} x2=${x + barW / 2} y1=${y(b.interval[1])} y2=${y(Math.max(b.interval[0], lo))}></line>
                  <line class="err" x1=${x + barW * 0.25} x2=${x + barW * 0.75} y1=${y(b.interval[1])} y2=${y(b.interval[1])}></line>
                  <line class="err" x1=${x + barW * 0.25} x2=${x + barW * 0.75} y1=${y(Math.max(b.interval[0], lo))} y2=${y(Math.max(b.interval[0], lo))}></line>`
              : svg``;
            return svg`<g data-term=${b.term} data-profile=${di} data-value=${b.value} data-lo=${b.interval?.[0] ?? ''} data-hi=${b.interval?.[1] ?? ''}>
              <rect x=${x + 1} width=${barW - 2} y=${top} height=${Math.max(0, y(lo) - top)} fill=${color}></rect>${whisker}
              <title>${d.title}: ${b.term} ${b.value.toPrecision(3)}×${b.interval ? ` [${b.interval[0].toPrecision(3)} – ${b.interval[1].toPrecision(3)}]` : ' (legacy profile: no interval)'}</title></g>`;
          }),
        )}
        <line x1=${m.l} x2=${m.l} y1=${m.t} y2=${H - m.b} class="axis"></line>
      </svg>
      <ul class="legend">${data.map((d, di) => html`<li><span class="swatch" ${cssProps({ background: PALETTE[di % PALETTE.length] })}></span>${d.title} <span class="verdict ${d.verdict}">${d.verdict}</span></li>`)}</ul>
    </figure>`;
  }

  static override styles = [
    base,
    css`
      svg { width: 100%; height: auto; max-width: 48rem; }
      .grid { stroke: var(--border, #ccc); stroke-width: 0.5; }
      .one { stroke: var(--fg, #333); stroke-dasharray: 4 3; }
      .axis { stroke: var(--fg, #333); }
      .tick { font-size: 11px; fill: var(--muted, #666); }
      .zero { font-size: 13px; font-weight: bold; }
      .err { stroke: var(--fg, #222); stroke-width: 1.5; }
      figcaption { font-weight: 600; margin-bottom: 0.25rem; }
      .legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
      .swatch { display: inline-block; width: 0.8rem; height: 0.8rem; margin-right: 0.3rem; vertical-align: middle; }
      .verdict.unusable { color: var(--error, #b00020); font-weight: 600; }
      .verdict.noisy { color: var(--warn, #8a5a00); }
    `,
  ];
}

customElements.define('kv-ratio-bars', KvRatioBars);
