/** Device view: the WebGPU adapter, its limits and features, and the page's timer precision. */
import { LitElement, css, html, type TemplateResult } from 'lit';
import type { WebGpuDetection } from '../../gpu/detect.ts';
import { bytes, int } from '../format.ts';
import { base } from '../theme.ts';

const BYTE_LIMITS = /Size$|BufferSize|StorageSize/;

/**
 * The WebGPU spec's default limits (core, what every adapter guarantees): an adapter's
 * value beyond its default is marked, as webgpureport.org does. `min…` limits are
 * better when lower.
 */
export const SPEC_DEFAULT_LIMITS: Record<string, number> = {
  maxTextureDimension1D: 8192,
  maxTextureDimension2D: 8192,
  maxTextureDimension3D: 2048,
  maxTextureArrayLayers: 256,
  maxBindGroups: 4,
  maxBindGroupsPlusVertexBuffers: 24,
  maxBindingsPerBindGroup: 1000,
  maxDynamicUniformBuffersPerPipelineLayout: 8,
  maxDynamicStorageBuffersPerPipelineLayout: 4,
  maxSampledTexturesPerShaderStage: 16,
  maxSamplersPerShaderStage: 16,
  maxStorageBuffersPerShaderStage: 8,
  maxStorageTexturesPerShaderStage: 4,
  maxUniformBuffersPerShaderStage: 12,
  maxUniformBufferBindingSize: 65536,
  maxStorageBufferBindingSize: 134217728,
  minUniformBufferOffsetAlignment: 256,
  minStorageBufferOffsetAlignment: 256,
  maxVertexBuffers: 8,
  maxBufferSize: 268435456,
  maxVertexAttributes: 16,
  maxVertexBufferArrayStride: 2048,
  maxInterStageShaderVariables: 16,
  maxColorAttachments: 8,
  maxColorAttachmentBytesPerSample: 32,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupsPerDimension: 65535,
};

/** Whether a limit is better than the spec's default (null: no known default). */
export function aboveDefault(name: string, value: number): boolean | null {
  const d = SPEC_DEFAULT_LIMITS[name];
  if (d === undefined) return null;
  return name.startsWith('min') ? value < d : value > d;
}

function wgslFeatures(): string[] {
  const set = (globalThis.navigator as { gpu?: { wgslLanguageFeatures?: ReadonlySet<string> } } | undefined)?.gpu
    ?.wgslLanguageFeatures;
  return set ? [...set].sort() : [];
}

export class KvDeviceView extends LitElement {
  static override properties = { detection: { attribute: false }, copied: { state: true } };
  declare detection: WebGpuDetection | undefined;
  declare copied: string | undefined;

  /** Everything this view shows, as JSON (adapter, features, WGSL language features, limits, page). */
  private report(): string {
    return JSON.stringify(
      {
        detection: this.detection,
        wgslLanguageFeatures: wgslFeatures(),
        crossOriginIsolated: globalThis.crossOriginIsolated,
        hardwareConcurrency: navigator.hardwareConcurrency,
        userAgent: navigator.userAgent,
      },
      null,
      2,
    );
  }

  private async copy(): Promise<void> {
    const text = this.report();
    try {
      await navigator.clipboard.writeText(text);
      this.copied = 'Copied the report to the clipboard.';
    } catch {
      // No clipboard permission (e.g. an insecure origin): offer the file instead.
      const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = 'kvsched-device.json';
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      this.copied = 'The clipboard is not available here; downloaded kvsched-device.json instead.';
    }
  }

  private copyButton(): TemplateResult {
    return html`<p class="copy"><button data-testid="copy-json" @click=${() => void this.copy()}>Copy as JSON</button>
      ${this.copied ? html`<span class="muted" role="status" data-testid="copy-status">${this.copied}</span>` : ''}</p>`;
  }

  private environment(): TemplateResult {
    const isolated = globalThis.crossOriginIsolated;
    return html`<section class="card">
      <h3>This page</h3>
      <table>
        <tbody>
          <tr><th>Cross-origin isolated</th><td>${isolated ? html`<span class="ok">yes</span> — performance.now() resolves ~5 µs` : 'no — performance.now() is coarse (~100 µs)'}</td></tr>
          <tr><th>Logical CPU cores</th><td>${navigator.hardwareConcurrency ?? '?'}</td></tr>
          <tr><th>CPU engine</th><td>available (Web Worker)</td></tr>
          <tr><th>GPU engine</th><td data-testid="gpu-engine">${
            this.detection === undefined
              ? 'detecting WebGPU…'
              : this.detection.available
                ? 'available (the WGSL scheduler engine, in the Web Worker; Experiment → Engine: GPU)'
                : 'unavailable here (needs WebGPU)'
          }</td></tr>
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
        <p class="error" data-testid="webgpu-status">WebGPU unavailable: ${d.reason}.</p>
        <p>Experiments still run: the CPU engine (in a Web Worker) runs every experiment without WebGPU. The GPU engine and GPU calibration need WebGPU.</p>
        ${this.copyButton()}
        ${this.environment()}`;
    }
    const a = d.adapter;
    const limits = Object.entries(d.limits).sort(([x], [y]) => x.localeCompare(y));
    const wgsl = wgslFeatures();
    const better = limits.filter(([k, v]) => aboveDefault(k, v) === true).length;
    return html`<h2>Device</h2>
      <p class="ok" data-testid="webgpu-status">WebGPU available${a.isFallbackAdapter ? ' (software fallback adapter: timings are the CPU’s, not a GPU’s)' : ''}.</p>
      ${this.copyButton()}
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
          <h3>WGSL language features (${wgsl.length})</h3>
          ${wgsl.length === 0 ? html`<p class="muted">none reported</p>` : html`<ul class="features" data-testid="wgsl-features">${wgsl.map((f) => html`<li><code>${f}</code></li>`)}</ul>`}
        </section>
        <section class="card">
          <h3>Limits (${limits.length})</h3>
          <p class="muted small">★ ${better} ${better === 1 ? 'limit is' : 'limits are'} better than the WebGPU spec's default (what every adapter guarantees).</p>
          <table data-testid="limits">
            <thead><tr><th>limit</th><th class="num">value</th><th class="num">spec default</th></tr></thead>
            <tbody>
              ${limits.map(([k, v]) => {
                const show = (x: number) => (BYTE_LIMITS.test(k) && x >= 1024 ? bytes(x) : int(x));
                const up = aboveDefault(k, v);
                const def = SPEC_DEFAULT_LIMITS[k];
                return html`<tr data-limit=${k} data-above=${up === true ? 'true' : 'false'} class=${up === true ? 'above' : ''}>
                  <td><code>${k}</code></td>
                  <td class="num" title=${String(v)}>${up === true ? html`<span aria-label="better than the default">★ </span>` : ''}${show(v)}</td>
                  <td class="num muted">${def === undefined ? '—' : show(def)}</td></tr>`;
              })}
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
      .features code {
        overflow-wrap: anywhere;
      }
      th {
        white-space: nowrap;
      }
      tr.above td:nth-child(2) {
        font-weight: 700;
      }
      .small {
        font-size: 0.85rem;
      }
      .copy {
        display: flex;
        gap: 0.6rem;
        align-items: center;
      }
    `,
  ];
}

customElements.define('kv-device-view', KvDeviceView);
