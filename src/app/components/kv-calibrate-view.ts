/**
 * Calibrate view: times attention-shaped work on this device with WebGPU (the
 * calibration module) and stores the fitted cost profile (`kvsched.profile/2`) in
 * History; it then appears as a cost model in the Experiment view. Shows the profile's
 * verdict and reasons, its intervals, the replay check, the kernel-efficiency table and
 * its power model (the board power can be set here).
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { WebGpuDetection } from '../../gpu/detect.ts';
import { newRecordId } from '../../storage/store.ts';
import { minorTermsNote } from '../../calibrate/verdict.ts';
import {
  downloadProfile,
  fitChartSpec,
  kernelRows,
  loadCalibration,
  loadStoredProfiles,
  profileFileName,
  type Profile,
} from '../calibration.ts';
import { errorText, fixed } from '../format.ts';
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
    newReference: { state: true },
    progress: { state: true },
    profile: { state: true },
    stored: { state: true },
    error: { state: true },
    saved: { state: true },
    recordId: { state: true },
    powerNote: { state: true },
  };
  declare detection: WebGpuDetection | undefined;
  declare state: State;
  declare preset: 'quick' | 'full';
  /** Replace this device's stored reference with the next calibration's speed (unless it is unusable). */
  declare newReference: boolean;
  declare progress: { label: string; fraction: number } | undefined;
  declare profile: Profile | undefined;
  /** Title of the stored profile shown when this view opened (undefined: a fresh calibration, or none). */
  declare stored: string | undefined;
  declare error: string | undefined;
  declare saved: string | undefined;
  /** The stored record of the shown profile (board power edits update it). */
  declare recordId: string | undefined;
  declare powerNote: string | undefined;
  private recordTitle = '';
  private recordCreatedAt = 0;
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
    this.newReference = false;
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
        this.recordId = newest.record.id;
        this.recordTitle = newest.record.title;
        this.recordCreatedAt = newest.record.createdAt;
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
      const phases: readonly string[] = lib.phases;
      const profile = await lib.calibrate({
        session,
        // More devices on the same adapter for the linear sweep's rotation (docs/calibration.md).
        openSession: async () => {
          const more = await gpu.requestAdapter();
          if (!more) throw new Error('requestAdapter() returned null');
          return lib.openSession(more);
        },
        shaders: lib.shaders,
        preset: lib.PRESETS[this.preset],
        runtime: navigator.userAgent,
        signal: abort.signal,
        // This browser's device reference (docs/calibration.md, "Device reference").
        deviceReferences: lib.deviceReferences(this.newReference),
        resetDeviceReference: this.newReference,
        onProgress: (p) => {
          const i = Math.max(0, phases.indexOf(p.phase));
          this.progress = {
            label: `${p.phase}: ${p.label}`,
            fraction: (i + (p.total > 0 ? p.done / p.total : 0)) / phases.length,
          };
        },
      });
      this.profile = profile;
      this.stored = undefined;
      this.state = 'done';
      try {
        const store = await getStore();
        this.recordId = newRecordId('profile');
        this.recordTitle = `${profile.device.name} (${profile.preset})`;
        this.recordCreatedAt = Date.now();
        await store.put({
          id: this.recordId,
          kind: 'profile',
          createdAt: this.recordCreatedAt,
          title: this.recordTitle,
          data: profile,
        });
        this.saved =
          profile.quality.verdict === 'unusable'
            ? 'Saved to History. It is UNUSABLE as a cost model (see the reasons): pickers warn about it.'
            : 'Saved to History; it is now a cost model in the Experiment view.';
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

  /** Sets the profile's board power (W) and stores it; simulations with this profile then use it. */
  private async setPower(input: HTMLInputElement): Promise<void> {
    const p = this.profile;
    if (!p) return;
    try {
      const { withBoardPower } = await import('../../calibrate/profile.ts');
      const next = withBoardPower(p, Number(input.value));
      this.profile = next;
      if (this.recordId) {
        const store = await getStore();
        await store.put({
          id: this.recordId,
          kind: 'profile',
          createdAt: this.recordCreatedAt,
          title: this.recordTitle,
          data: next,
        });
        this.powerNote = `Board power set to ${next.power.activeWattsPerGpu} W and saved.`;
      } else this.powerNote = `Board power set to ${next.power.activeWattsPerGpu} W (not stored).`;
    } catch (e) {
      this.powerNote = errorText(e);
    }
  }

  private renderQuality(p: Profile): TemplateResult {
    const q = p.quality;
    const rp = p.validation.replay;
    const t = p.reference.typicalRound;
    const iv = (i: readonly [number, number] | undefined, d: number) =>
      i ? ` [${fixed(i[0], d)} – ${fixed(i[1], d)}]` : '';
    return html`<div class="verdict ${q.verdict}" data-testid="profile-verdict" data-verdict=${q.verdict} role=${q.verdict === 'unusable' ? 'alert' : 'status'}>
        <strong>Verdict: ${q.verdict}</strong>${q.verdict === 'unusable' ? html` — do not use this profile as a cost model` : nothing}
        ${q.reasons.length > 0 ? html`<ul>${q.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : html` — intervals within target, held-out rounds and replay predicted well.`}
        ${minorTermsNote(q.minorTerms) ? html`<p data-testid="minor-terms">${minorTermsNote(q.minorTerms)}</p>` : nothing}
      </div>
      <p data-testid="typical-round">Typical LMSYS round on Llama-2 70B: <span class="num">${fixed(t.deviceMicros / 1000, 1)}${iv(t.deviceInterval?.map((x) => x / 1000) as [number, number] | undefined, 1)}</span> ms here vs <span class="num">${fixed(t.referenceMicros / 1000, 1)}</span> ms on the A100 pair: <span class="num">${fixed(t.ratio, 1)}${iv(t.ratioInterval, 1)}</span>× (95 % intervals).</p>
      <p data-testid="replay">${
        rp
          ? html`Replay check: ${rp.rounds} rounds of ${rp.schedule}${rp.skipped > 0 ? ` (${rp.skipped} outsized rounds skipped)` : ''} — measured <span class="num">${fixed(rp.measured / 1000, 1)}</span> ms, predicted <span class="num">${fixed(rp.predicted / 1000, 1)}</span> ms: error <span class="num">${rp.error >= 0 ? '+' : ''}${fixed(100 * rp.error, 1)} %</span>.`
          : html`Replay check: not run${p.legacy ? ' (legacy kvsched.profile/1 profile)' : ''}.`
      }</p>`;
  }

  private renderKernels(p: Profile): TemplateResult {
    return html`<h4>Kernel efficiency</h4>
      <table data-testid="kernel-efficiency">
        <thead><tr><th>kernel</th><th>size</th><th class="num">time (ms)</th><th class="num">rate</th><th class="num">efficiency</th><th>against</th></tr></thead>
        <tbody>${kernelRows(p).map(
          (r) =>
            html`<tr><td>${r.kernel}</td><td>${r.size}</td><td class="num">${fixed(r.ms, 2)}</td><td class="num">${r.rate}</td><td class="num" data-value=${r.efficiency}>${fixed(100 * r.efficiency, 0)} %</td><td>${r.roof}</td></tr>`,
        )}</tbody>
      </table>
      <p class="muted">Each kernel at the sweeps' largest size, against its roof probe measured right before and after it (streaming-read bandwidth for decode attention, the FMA rate for prefill and the linear layers).</p>`;
  }

  private renderPower(p: Profile): TemplateResult {
    const w = p.power;
    return html`<div class="actions" data-testid="profile-power">
        <label>Board power (W)
          <input type="number" min="1" step="1" .value=${String(w.activeWattsPerGpu)} @change=${(e: Event) => void this.setPower(e.target as HTMLInputElement)} /></label>
        <span class="muted">${w.source === 'default' ? `Default for a ${w.adapterClass} adapter (${w.name.replace(/^default: /, '')}); set your device's.` : 'Set by you.'} Simulations with this profile use it for energy (idle ${fixed(w.idleWattsPerGpu, 0)} W).</span>
        ${this.powerNote ? html`<span class="muted" role="status">${this.powerNote}</span>` : nothing}
      </div>`;
  }

  override render(): TemplateResult {
    const d = this.detection;
    const noGpu = d !== undefined && !d.available;
    const running = this.state === 'running';
    return html`<h2>Calibrate</h2>
      <section class="card">
        <p data-testid="calibration-status">Times each term of the engine's round-cost model on this device with WebGPU — the linear layers over tokens, decode attention over KV tokens, prefill attention over chunk², the round trip — fits each with a 95 % interval, checks the model on held-out rounds and a replay of a real schedule, and extrapolates it to Llama-2 70B. The profile (<code>kvsched.profile/2</code>) is stored in History and can be used as a cost model.</p>
        ${noGpu ? html`<p class="notice">Calibration needs WebGPU, which this browser lacks: ${d.reason}.</p>` : nothing}
        <div class="actions">
          <label>Preset
            <select ?disabled=${running} @change=${(e: Event) => (this.preset = (e.target as HTMLSelectElement).value === 'full' ? 'full' : 'quick')}>
              <option value="quick" ?selected=${this.preset === 'quick'}>quick (about a minute on a software adapter)</option>
              <option value="full" ?selected=${this.preset === 'full'}>full (more layers, sizes and samples)</option>
            </select></label>
          <label title="The first usable calibration of a device keeps its speed in this browser; later ones are expressed at it and compared with the earlier ones. Tick to replace it with this calibration's (its history starts again).">
            <input type="checkbox" data-testid="calibrate-new-reference" ?disabled=${running} .checked=${this.newReference}
              @change=${(e: Event) => (this.newReference = (e.target as HTMLInputElement).checked)} />
            New device reference</label>
          <button class="primary" data-testid="calibrate-run" ?disabled=${running || noGpu} @click=${() => void this.run()}>Calibrate this device</button>
          ${running ? html`<button @click=${() => this.abort?.abort()}>Cancel</button>` : nothing}
        </div>
        ${
          running && this.progress
            ? html`<p role="status"><progress max="1" .value=${this.progress.fraction}></progress> <span class="num">${Math.round(this.progress.fraction * 100)} %</span> ${this.progress.label}</p>`
            : nothing
        }
        ${this.state === 'cancelled' ? html`<p class="muted">Cancelled.</p>` : nothing}
        ${this.error ? html`<p class="error" role="alert" data-testid="calibration-error">${this.error}</p>` : nothing}
        ${this.saved ? html`<p class="muted">${this.saved}</p>` : nothing}
      </section>
      ${
        this.profile
          ? html`<section class="card" data-testid="calibration-result">
            <h3>${this.stored ? 'Latest stored profile' : 'Profile'} of ${this.profile.device.name}</h3>
            ${this.stored ? html`<p class="muted">From History: ${this.stored}.</p>` : nothing}
            <div class="actions">
              <button data-testid="profile-export" title=${profileFileName(this.profile)} @click=${() => this.profile && void downloadProfile(this.profile)}>Export JSON</button>
            </div>
            ${this.profile.device.adapter.isFallbackAdapter ? html`<p class="notice">Software (fallback) adapter: these are the CPU's numbers, not a GPU's.</p>` : nothing}
            ${this.renderQuality(this.profile)}
            ${this.renderPower(this.profile)}
            <kv-profile-table .profiles=${[{ title: `${this.profile.device.name} (${this.profile.preset})`, profile: this.profile }]}></kv-profile-table>
            ${this.renderKernels(this.profile)}
            <kv-chart data-testid="fit-chart" .spec=${this.fitChart(this.profile)}></kv-chart>
            <p class="muted">Each point is one held-out composite round (linear + decode + prefill work in one pass, never used by the fit): its measured time against the model's prediction. Points on the dashed y = x line are predicted exactly.</p>
          </section>`
          : nothing
      }`;
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
      .verdict {
        border-left: 4px solid var(--border, #999);
        padding: 0.4rem 0.75rem;
        margin: 0.5rem 0;
      }
      .verdict.good {
        border-color: #009e73;
      }
      .verdict.noisy {
        border-color: #e69f00;
      }
      .verdict.unusable {
        border-color: #d55e00;
        background: color-mix(in srgb, #d55e00 10%, transparent);
      }
      .verdict ul {
        margin: 0.25rem 0 0;
      }
      progress {
        width: 14rem;
        accent-color: var(--accent);
      }
    `,
  ];
}

customElements.define('kv-calibrate-view', KvCalibrateView);
