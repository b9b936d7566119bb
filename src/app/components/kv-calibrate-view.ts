/**
 * Calibrate view: times attention-shaped work on this device with WebGPU (the
 * calibration module) and stores the fitted cost profile (`kvsched.profile/1`) in
 * History; it then appears as a cost model in the Experiment view.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { WebGpuDetection } from '../../gpu/detect.ts';
import { newRecordId } from '../../storage/store.ts';
import { downloadProfile, fitChartSpec, loadCalibration, loadStoredProfiles, profileFileName, type Profile } from '../calibration.ts';
import { errorText } from '../format.ts';
import { getStore } from '../services.ts';
import { base } from '../theme.ts';
import './kv-chart.ts';
import type { ChartSpec } from './kv-chart.ts';
import './kv-profile-table.ts';

type State = 'idle' | 'running' | 'done' | 'error' | 'cancelled';

export class KvCalibrateView extends LitElement {
  static override properties = {
    detection: { attribute: false },
    state: { type: String, reflect: true, attribute: 'data-state' },
    preset: { state: true },
    progress: { state: true },
    profile: { state: true },
    stored: { state: true },
    error: { state: true },
    saved: { state: true },
  };
  declare detection: WebGpuDetection | undefined;
  declare state: State;
  declare preset: 'quick' | 'full';
  declare progress: { label: string; fraction: number } | undefined;
  declare profile: Profile | undefined;
  /** Title of the stored profile shown when this view opened (undefined: a fresh calibration, or none). */
  declare stored: string | undefined;
  declare error: string | undefined;
  declare saved: string | undefined;
  private abort: AbortController | undefined;
  private chartOf: { profile: Profile; spec: ChartSpec } | undefined;

  /** The measured-vs-fitted chart, made once per profile (a new spec would redraw it). */
  private fitChart(p: Profile): ChartSpec {
    if (this.chartOf?.profile !== p) this.chartOf = { profile: p, spec: fitChartSpec(p) };
    return this.chartOf.spec;
  }

  constructor() {
    super();
    this.state = 'idle';
    this.preset = 'quick';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.loadLatest();
  }

  /** Shows the most recent valid stored profile until a calibration replaces it. */
  private async loadLatest(): Promise<void> {
    try {
      const { valid } = await loadStoredProfiles();
      const newest = valid.sort((a, b) => b.record.createdAt - a.record.createdAt)[0];
      if (newest !== undefined && this.profile === undefined && this.state !== 'running') {
        this.profile = newest.profile;
        this.stored = newest.record.title;
      }
    } catch {
      // No storage: nothing to show until a calibration runs.
    }
  }

  override disconnectedCallback(): void {
    this.abort?.abort();
    super.disconnectedCallback();
  }

  private async run(): Promise<void> {
    this.state = 'running';
    this.error = undefined;
    this.saved = undefined;
    this.progress = { label: 'loading the calibration kernels', fraction: 0 };
    const abort = new AbortController();
    this.abort = abort;
    let destroy: (() => void) | undefined;
    try {
      const gpu = navigator.gpu;
      if (!gpu) throw new Error('this browser has no WebGPU (navigator.gpu is undefined)');
      const lib = await loadCalibration();
      const adapter = await gpu.requestAdapter();
      if (!adapter) throw new Error('requestAdapter() returned null: no WebGPU adapter');
      const session = await lib.openSession(adapter);
      destroy = () => session.destroy();
      const phases = ['compile', 'probes', 'kernels', 'grid', 'fit'];
      const profile = await lib.calibrate({
        session,
        shaders: lib.shaders,
        preset: lib.PRESETS[this.preset],
        runtime: navigator.userAgent,
        signal: abort.signal,
        onProgress: (p) => {
          const i = Math.max(0, phases.indexOf(p.phase));
          this.progress = { label: `${p.phase}: ${p.label}`, fraction: (i + (p.total > 0 ? p.done / p.total : 0)) / phases.length };
        },
      });
      this.profile = profile;
      this.stored = undefined;
      this.state = 'done';
      try {
        const store = await getStore();
        await store.put({ id: newRecordId('profile'), kind: 'profile', createdAt: Date.now(), title: `${profile.device.name} (${profile.preset})`, data: profile });
        this.saved = 'Saved to History; it is now a cost model in the Experiment view.';
      } catch (e) {
        this.saved = errorText(e);
      }
    } catch (e) {
      if (abort.signal.aborted) this.state = 'cancelled';
      else {
        this.error = errorText(e);
        this.state = 'error';
      }
    } finally {
      destroy?.();
      this.abort = undefined;
    }
  }

  override render(): TemplateResult {
    const d = this.detection;
    const noGpu = d !== undefined && !d.available;
    const running = this.state === 'running';
    return html`<h2>Calibrate</h2>
      <section class="card">
        <p data-testid="calibration-status">Times attention-shaped rounds (decode attention, prefill attention, the linear layers) on this device with WebGPU, fits the engine's four-term round-cost model and extrapolates it to Llama-2 70B. The profile (<code>kvsched.profile/1</code>) is stored in History and can be used as a cost model.</p>
        ${noGpu ? html`<p class="notice">Calibration needs WebGPU, which this browser lacks: ${d.reason}.</p>` : nothing}
        <div class="actions">
          <label>Preset
            <select ?disabled=${running} @change=${(e: Event) => (this.preset = (e.target as HTMLSelectElement).value === 'full' ? 'full' : 'quick')}>
              <option value="quick" ?selected=${this.preset === 'quick'}>quick (about a minute on a software adapter)</option>
              <option value="full" ?selected=${this.preset === 'full'}>full (more layers, sizes and samples)</option>
            </select></label>
          <button class="primary" data-testid="calibrate-run" ?disabled=${running || noGpu} @click=${() => void this.run()}>Calibrate this device</button>
          ${running ? html`<button @click=${() => this.abort?.abort()}>Cancel</button>` : nothing}
        </div>
        ${running && this.progress
          ? html`<p role="status"><progress max="1" .value=${this.progress.fraction}></progress> <span class="num">${Math.round(this.progress.fraction * 100)} %</span> ${this.progress.label}</p>`
          : nothing}
        ${this.state === 'cancelled' ? html`<p class="muted">Cancelled.</p>` : nothing}
        ${this.error ? html`<p class="error" role="alert" data-testid="calibration-error">${this.error}</p>` : nothing}
        ${this.saved ? html`<p class="muted">${this.saved}</p>` : nothing}
      </section>
      ${this.profile
        ? html`<section class="card" data-testid="calibration-result">
            <h3>${this.stored ? 'Latest stored profile' : 'Profile'} of ${this.profile.device.name}</h3>
            ${this.stored ? html`<p class="muted">From History: ${this.stored}.</p>` : nothing}
            <div class="actions">
              <button data-testid="profile-export" title=${profileFileName(this.profile)} @click=${() => this.profile && downloadProfile(this.profile)}>Export JSON</button>
            </div>
            ${this.profile.device.adapter.isFallbackAdapter ? html`<p class="notice">Software (fallback) adapter: these are the CPU's numbers, not a GPU's.</p>` : nothing}
            <kv-profile-table .profiles=${[{ title: `${this.profile.device.name} (${this.profile.preset})`, profile: this.profile }]}></kv-profile-table>
            <kv-chart data-testid="fit-chart" .spec=${this.fitChart(this.profile)}></kv-chart>
            <p class="muted">Each point is one grid measurement: the measured round time against the fit's prediction from its features (circles: points the fit used; triangles: held out). Points on the dashed y = x line are predicted exactly.</p>
          </section>`
        : nothing}`;
  }

  static override styles = [
    base,
    css`
      .actions {
        display: flex;
        gap: 0.75rem;
        align-items: center;
        flex-wrap: wrap;
        margin-top: 0.75rem;
      }
      kv-chart {
        display: block;
        margin: 1rem 0 0.5rem;
      }
      progress {
        width: 14rem;
        accent-color: var(--accent);
      }
    `,
  ];
}

customElements.define('kv-calibrate-view', KvCalibrateView);
