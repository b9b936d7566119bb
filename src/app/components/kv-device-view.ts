/** Device view: the WebGPU adapter, its limits and features, and the page's timer precision. */
import { LitElement, css, html, type TemplateResult } from 'lit';
import type { WebGpuDetection } from '../../gpu/detect.ts';
import { bytes, int } from '../format.ts';
import { base } from '../theme.ts';

const BYTE_LIMITS = /Size$|BufferSize|StorageSize/;

export class KvDeviceView extends LitElement {
  static override properties = { detection: { attribute: false } };
  declare detection: WebGpuDetection | undefined;

  private environment(): TemplateResult {
    const isolated = globalThis.crossOriginIsolated;
    return html`<section class="card">
      <h3>This page</h3>
      <table>
        <tbody>
          <tr><th>Cross-origin isolated</th><td>${isolated ? html`<span class="ok">yes</span> — performance.now() resolves ~5 µs` : 'no — performance.now() is coarse (~100 µs)'}</td></tr>
          <tr><th>Logical CPU cores</th><td>${navigator.hardwareConcurrency ?? '?'}</td></tr>
          <tr><th>CPU engine</th><td>available (Web Worker)</td></tr>
          <tr><th>GPU engine</th><td>not in this build</td></tr>
          <tr><th>User agent</th><td><code>${navigator.userAgent}</code></td></tr>
        </tbody>
      </table>
    </section>`;
  }

  override render(): TemplateResult {
    const d = this.detection;
    if (!d) return html`<h2>Device</h2><p class="muted">Detecting WebGPU…</p>${this.environment()}`;
    if (!d.available) {
      return html`<h2>Device</h2>
        <p class="error" data-testid="webgpu-status">WebGPU unavailable: ${d.reason}</p>
        <p>The CPU engine runs every experiment without WebGPU.</p>
        ${this.environment()}`;
    }
    const a = d.adapter;
    const limits = Object.entries(d.limits).sort(([x], [y]) => x.localeCompare(y));
    return html`<h2>Device</h2>
      <p class="ok" data-testid="webgpu-status">WebGPU available${a.isFallbackAdapter ? ' (software fallback adapter: timings are the CPU’s, not a GPU’s)' : ''}.</p>
      <div class="grid">
        <section class="card">
          <h3>Adapter</h3>
          <table>
            <tbody>
              <tr><th>Vendor</th><td>${a.vendor || '—'}</td></tr>
              <tr><th>Architecture</th><td>${a.architecture || '—'}</td></tr>
              <tr><th>Device</th><td>${a.device || '—'}</td></tr>
              <tr><th>Description</th><td>${a.description || '—'}</td></tr>
              <tr><th>Fallback adapter</th><td>${a.isFallbackAdapter ? 'yes (software)' : 'no'}</td></tr>
              <tr><th>Feature level</th><td>${a.featureLevel ?? 'unknown'}</td></tr>
            </tbody>
          </table>
          <h3>Features (${d.features.length})</h3>
          ${d.features.length === 0 ? html`<p class="muted">none</p>` : html`<ul class="features">${d.features.map((f) => html`<li><code>${f}</code></li>`)}</ul>`}
        </section>
        <section class="card">
          <h3>Limits (${limits.length})</h3>
          <table data-testid="limits">
            <thead><tr><th>limit</th><th class="num">value</th></tr></thead>
            <tbody>
              ${limits.map(
                ([k, v]) => html`<tr><td><code>${k}</code></td><td class="num" title=${String(v)}>${BYTE_LIMITS.test(k) && v >= 1024 ? bytes(v) : int(v)}</td></tr>`,
              )}
            </tbody>
          </table>
        </section>
      </div>
      ${this.environment()}`;
  }

  static override styles = [
    base,
    css`
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr));
        gap: 1rem;
        align-items: start;
      }
      .features {
        columns: 2;
        padding-left: 1.2rem;
        margin: 0;
      }
      th {
        white-space: nowrap;
      }
    `,
  ];
}

customElements.define('kv-device-view', KvDeviceView);
