/** A banner shown when this browser has no usable WebGPU adapter. */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { WebGpuDetection } from '../../gpu/detect.ts';
import { base } from '../theme.ts';

export class KvWebgpuBanner extends LitElement {
  static override properties = { detection: { attribute: false } };
  declare detection: WebGpuDetection | undefined;

  override render(): TemplateResult | typeof nothing {
    const d = this.detection;
    if (!d || d.available) return nothing;
    return html`<div class="notice" role="status" data-testid="no-webgpu">
      <strong>WebGPU is not available in this browser.</strong> ${d.reason}.<br />
      Experiments still run: the CPU engine (in a Web Worker) is the path that works here. GPU calibration needs WebGPU.
    </div>`;
  }

  static override styles = [base, css`:host { margin-bottom: 1rem; }`];
}

customElements.define('kv-webgpu-banner', KvWebgpuBanner);
