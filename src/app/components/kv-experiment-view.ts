/**
 * Experiment view: configuration (mirrored into the URL), run with progress and
 * cancel on the CPU engine in a Web Worker, results table and charts, rate sweep.
 * Every finished run is stored in History.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { WebGpuDetection } from '../../gpu/detect.ts';
import { newRecordId } from '../../storage/store.ts';
import { CancelledError, EngineClient } from '../../worker/client.ts';
import type { ExperimentResult, OptimumSummary, ProgressInfo, RunConfig, SweepResult } from '../../worker/protocol.ts';
import { configFromParams, configTitle, configToParams, isLmsys, optimumOffered, toRunConfig, type ExperimentConfig } from '../config.ts';
import { errorText, fixed } from '../format.ts';
import { isRunData, type RunRecordData } from '../records.ts';
import { replaceParams } from '../route.ts';
import { getStore } from '../services.ts';
import { base } from '../theme.ts';
import './kv-config-form.ts';
import type { TraceFile } from './kv-config-form.ts';
import { KvPolicyList } from './kv-policy-list.ts';
import './kv-results-table.ts';
import './kv-run-progress.ts';
import { profileOptionLabel } from '../calibration.ts';

type RunState = 'idle' | 'running' | 'done' | 'error' | 'cancelled';

export class KvExperimentView extends LitElement {
  static override properties = {
    params: { attribute: false },
    detection: { attribute: false },
    state: { type: String, reflect: true, attribute: 'data-state' },
    config: { state: true },
    trace: { state: true },
    progress: { state: true },
    progressLabel: { state: true },
    result: { state: true },
    sweep: { state: true },
    error: { state: true },
    saved: { state: true },
    chartsReady: { state: true },
    sweepText: { state: true },
    loadedRun: { state: true },
    profiles: { state: true },
    optimum: { state: true },
    optimumState: { state: true },
    optimumError: { state: true },
  };

  /** Time limit of the hindsight optimum's branch and bound. */
  static readonly OPTIMUM_TIME_LIMIT_SEC = 10;

  declare params: URLSearchParams | undefined;
  declare detection: WebGpuDetection | undefined;
  declare state: RunState;
  declare config: ExperimentConfig;
  declare trace: TraceFile | null;
  declare progress: ProgressInfo | undefined;
  declare progressLabel: string;
  declare result: ExperimentResult | undefined;
  declare sweep: SweepResult | undefined;
  declare error: string | undefined;
  declare saved: { ok: boolean; text: string } | undefined;
  declare chartsReady: boolean;
  declare sweepText: string;
  declare loadedRun: string | undefined;
  /** Stored calibration profiles, offered as cost models (`profile:<record id>`). */
  declare profiles: { name: string; label: string; data: unknown }[];

  declare optimum: OptimumSummary | undefined;
  declare optimumState: 'idle' | 'running' | 'done' | 'error' | 'cancelled';
  declare optimumError: string | undefined;

  private client: EngineClient | undefined;

  constructor() {
    super();
    this.state = 'idle';
    this.config = configFromParams(new URLSearchParams());
    this.trace = null;
    this.progressLabel = 'Running';
    this.chartsReady = false;
    this.sweepText = this.config.sweepRates.join(', ');
    this.profiles = [];
    this.optimumState = 'idle';
  }

  /** Whether the GPU engine can run here, and why not (from the WebGPU detection). */
  private gpuStatus(): { available: boolean; reason: string } | undefined {
    const d = this.detection;
    if (!d) return undefined;
    return d.available ? { available: true, reason: '' } : { available: false, reason: d.reason };
  }

  override connectedCallback(): void {
    super.connectedCallback();
    getStore()
      .then((s) => s.list('profile'))
      .then(
        (rs) => (this.profiles = rs.map((r) => ({ name: `profile:${r.id}`, label: profileOptionLabel(r.title, r.data), data: r.data }))),
        () => undefined,
      );
  }

  override disconnectedCallback(): void {
    this.client?.dispose();
    this.client = undefined;
    super.disconnectedCallback();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('params') && this.params) {
      const p = this.params;
      const runId = p.get('run');
      const withoutRun = new URLSearchParams(p);
      withoutRun.delete('run');
      if (withoutRun.toString() !== configToParams(this.config).toString() && !runId) {
        this.config = configFromParams(withoutRun);
        this.sweepText = this.config.sweepRates.join(', ');
      }
      if (runId && runId !== this.loadedRun) void this.loadRun(runId);
    }
  }

  private async loadRun(id: string): Promise<void> {
    this.loadedRun = id;
    try {
      const rec = await (await getStore()).get(id);
      if (!rec || !isRunData(rec.data)) {
        this.error = `No stored run with id ${id}.`;
        return;
      }
      const data: RunRecordData = rec.data;
      this.config = configFromParams(configToParams({ ...configFromParams(new URLSearchParams()), ...data.config }));
      this.sweepText = this.config.sweepRates.join(', ');
      if (data.type === 'experiment') this.result = data.result;
      else this.sweep = data.result;
      this.state = 'done';
      this.saved = { ok: true, text: `Showing the stored run “${rec.title}”.` };
      void this.loadCharts();
    } catch (e) {
      this.error = `Could not open the stored run: ${errorText(e)}`;
    }
  }

  private setConfig(next: ExperimentConfig): void {
    this.config = next;
    if (this.optimumState !== 'running') {
      this.optimumState = 'idle';
      this.optimum = undefined;
    }
    this.loadedRun = undefined;
    replaceParams('experiment', configToParams(next));
  }

  private async loadCharts(): Promise<void> {
    if (this.chartsReady) return;
    await import('./kv-result-charts.ts');
    this.chartsReady = true;
  }

  private async save(title: string, data: RunRecordData): Promise<void> {
    try {
      const store = await getStore();
      const id = newRecordId('run');
      await store.put({ id, kind: 'run', createdAt: Date.now(), title, data });
      this.loadedRun = id;
      this.saved = { ok: true, text: 'Saved to History.' };
    } catch (e) {
      this.saved = { ok: false, text: errorText(e) };
    }
  }

  /** The worker's RunConfig for a configuration, or what is wrong with it. */
  private runConfigOf(cfg: ExperimentConfig): RunConfig | string {
    const run = toRunConfig(cfg, this.trace);
    if (typeof run !== 'string' && cfg.costModel.startsWith('profile:')) {
      const prof = this.profiles.find((p) => p.name === cfg.costModel);
      return prof ? { ...run, profile: prof.data } : `The cost model ${cfg.costModel} is not a stored profile (deleted?). Pick another cost model.`;
    }
    return run;
  }

  private get busy(): boolean {
    return this.state === 'running' || this.optimumState === 'running';
  }

  private async start(kind: 'run' | 'sweep'): Promise<void> {
    if (this.busy) return;
    const cfg = { ...this.config };
    let run = this.runConfigOf(cfg);
    if (typeof run !== 'string' && cfg.engine === 'gpu') {
      const gpu = this.gpuStatus();
      if (kind === 'sweep') run = 'The rate sweep runs on the CPU engine only; choose Engine: CPU for a sweep.';
      else if (gpu?.available !== true) run = `The GPU engine is unavailable: ${gpu?.reason ?? 'WebGPU detection has not finished'}. Choose Engine: CPU.`;
    }
    if (typeof run === 'string') {
      this.error = run;
      this.state = 'error';
      return;
    }
    if (!KvPolicyList.allValid(cfg.policies)) {
      this.error = 'Fix the invalid policy parameters first.';
      this.state = 'error';
      return;
    }
    this.error = undefined;
    this.saved = undefined;
    this.progress = undefined;
    this.state = 'running';
    this.client ??= new EngineClient();
    const charts = this.loadCharts();
    try {
      if (kind === 'run') {
        this.progressLabel = cfg.engine === 'gpu' ? 'Running on the GPU engine' : 'Running';
        const result = await this.client.run(run, (p) => (this.progress = p));
        this.result = result;
        this.state = 'done';
        await charts;
        await this.save(configTitle(cfg), { type: 'experiment', config: cfg, result });
      } else {
        const rates = cfg.sweepRates;
        this.progressLabel = `Sweep over λ = ${rates.join(', ')}`;
        const result = await this.client.sweep({ base: run, rates }, (p) => (this.progress = p));
        this.sweep = result;
        this.state = 'done';
        await charts;
        await this.save(`Sweep λ ∈ {${rates.join(', ')}}: ${configTitle(cfg)}`, { type: 'sweep', config: cfg, result });
      }
    } catch (e) {
      if (e instanceof CancelledError || (e instanceof Error && e.name === 'AbortError')) {
        this.state = 'cancelled';
      } else {
        this.error = cfg.engine === 'gpu' ? `The GPU engine refused or failed (nothing was run on the CPU instead): ${errorText(e)}` : errorText(e);
        this.state = 'error';
      }
    }
  }

  private async solveOptimum(): Promise<void> {
    if (this.busy) return;
    const run = this.runConfigOf({ ...this.config });
    if (typeof run === 'string') {
      this.optimumError = run;
      this.optimumState = 'error';
      return;
    }
    this.optimum = undefined;
    this.optimumError = undefined;
    this.optimumState = 'running';
    this.client ??= new EngineClient();
    try {
      this.optimum = await this.client.optimum({ ...run, engine: 'cpu' }, KvExperimentView.OPTIMUM_TIME_LIMIT_SEC);
      this.optimumState = 'done';
    } catch (e) {
      if (e instanceof CancelledError || (e instanceof Error && e.name === 'AbortError')) this.optimumState = 'cancelled';
      else {
        this.optimumError = errorText(e);
        this.optimumState = 'error';
      }
    }
  }

  private optimumTemplate(): TemplateResult | typeof nothing {
    const st = this.optimumState;
    if (st === 'idle') return nothing;
    if (st === 'running') {
      return html`<p class="muted" role="status" data-testid="optimum-running">Solving the hindsight optimum (local search, then branch and bound, time limit ${KvExperimentView.OPTIMUM_TIME_LIMIT_SEC} s)…
        <button data-testid="optimum-cancel" @click=${() => this.client?.cancel()}>Cancel</button></p>`;
    }
    if (st === 'cancelled') return html`<p class="muted" role="status" data-testid="optimum-cancelled">Hindsight optimum cancelled.</p>`;
    if (st === 'error') return html`<p class="error" role="alert" data-testid="optimum-error">Hindsight optimum: ${this.optimumError}</p>`;
    const o = this.optimum;
    if (!o) return nothing;
    return html`<div data-testid="optimum" data-status=${o.status} data-objective=${o.objective} data-lower-bound=${o.lowerBound}>
      <p><strong>Hindsight optimum:</strong> <span data-testid="optimum-status">${o.status === 'optimal' ? 'optimal (proven)' : 'time limit reached (best schedule found, not proven optimal)'}</span>;
        objective Σ(c − a) = <span data-testid="optimum-objective">${o.objective}</span> rounds, lower bound <span data-testid="optimum-lower-bound">${o.lowerBound}</span>
        (n = ${o.requests}, M = ${o.memory}, ${o.nodes.toLocaleString('en-US')} nodes, ${fixed(o.seconds, 2)} s)${
          o.localSearch === null ? nothing : html`; the local search over start orders found <span data-testid="optimum-local-search">${o.localSearch}</span> before the branch and bound`
        }.</p>
      <table class="optimum-table">
        <thead><tr><th>policy</th><th class="num">total latency</th><th class="num">ratio to optimum</th>${o.status === 'optimal' ? nothing : html`<th class="num">ratio to lower bound</th>`}</tr></thead>
        <tbody>${o.policies.map((p) => html`<tr data-policy=${p.policy}><td><code>${p.policy}</code></td>
          <td class="num">${p.total ?? 'failed'}</td>
          <td class="num" data-key="ratio" data-value=${p.total === null || o.objective === 0 ? '' : String(p.total / o.objective)}>${p.total === null || o.objective === 0 ? '—' : fixed(p.total / o.objective, 3)}</td>
          ${o.status === 'optimal' ? nothing : html`<td class="num">${p.total === null || o.lowerBound <= 0 ? '—' : fixed(p.total / o.lowerBound, 3)}</td>`}</tr>`)}</tbody>
      </table>
      <p class="muted">Total latency of each configured policy on the CPU engine (the same instance, rounds mode), divided by the optimum's objective${o.status === 'optimal' ? '' : ' (the best schedule found; the lower bound gives the ratio it proves at most)'}.</p>
    </div>`;
  }

  private sweepTemplate(): TemplateResult | typeof nothing {
    const s = this.sweep;
    if (!s || !this.chartsReady) return nothing;
    const unit = s.mode === 'seconds' ? 's' : 'rounds';
    return html`<section class="card" data-testid="sweep">
      <kv-chart .spec=${{
        kind: 'line',
        title: 'Mean latency vs arrival rate',
        xLabel: `arrival rate λ (requests/${unit === 's' ? 's' : 'round'})`,
        yLabel: `mean latency (${unit})`,
        yMin: 0,
        series: s.series.map((x) => ({
          label: x.policy,
          showPoints: true,
          points: s.rates.flatMap((r, i) => {
            const v = x.meanLatency[i];
            return v === null || v === undefined ? [] : [{ x: r, y: v }];
          }),
        })),
      }}></kv-chart>
      <table class="sweep-table">
        <thead><tr><th>policy</th>${s.rates.map((r) => html`<th class="num">λ = ${r}</th>`)}</tr></thead>
        <tbody>${s.series.map((x) => html`<tr><td><code>${x.policy}</code></td>${x.meanLatency.map((v) => html`<td class="num">${v === null ? 'failed' : fixed(v, 3)}</td>`)}</tr>`)}</tbody>
      </table>
      <p class="muted">Mean latency (${unit}) per policy and rate; wall time ${fixed(s.wallMs / 1000, 1)} s.</p>
    </section>`;
  }

  override render(): TemplateResult {
    const running = this.busy;
    const offerOptimum = optimumOffered(this.config);
    const lmsys = isLmsys(this.config.preset);
    return html`<h2>Experiment</h2>
      <section class="card">
        <kv-config-form .config=${this.config} ?disabled=${running} .profiles=${this.profiles} .gpu=${this.gpuStatus()} .traceLoaded=${this.trace?.name ?? null}
          @config-change=${(e: CustomEvent<ExperimentConfig>) => this.setConfig(e.detail)}
          @trace-change=${(e: CustomEvent<TraceFile>) => {
            this.trace = e.detail;
            this.setConfig({ ...this.config, traceName: e.detail.name });
          }}></kv-config-form>
        <div class="actions">
          <button class="primary" data-testid="run" ?disabled=${running} @click=${() => void this.start('run')}>Run experiment</button>
          <span class="sep"></span>
          <label>Sweep rates λ
            <input type="text" name="sweep-rates" .value=${this.sweepText} ?disabled=${running || !lmsys} size="16"
              @change=${(e: Event) => {
                const text = (e.target as HTMLInputElement).value;
                this.sweepText = text;
                const rates = text.split(/[\s,]+/).map(Number).filter((x) => Number.isFinite(x) && x > 0);
                if (rates.length > 0) this.setConfig({ ...this.config, sweepRates: rates });
              }} /></label>
          <button data-testid="sweep-run" ?disabled=${running || !lmsys} title=${lmsys ? 'Run the same configuration at each rate' : 'A sweep needs a generated LMSYS workload'}
            @click=${() => void this.start('sweep')}>Run sweep</button>
          <span class="sep"></span>
          <button data-testid="optimum-run" ?disabled=${running || !offerOptimum}
            title=${offerOptimum ? `Exact hindsight optimum by local search and branch and bound (time limit ${KvExperimentView.OPTIMUM_TIME_LIMIT_SEC} s), in the worker` : 'Offered in rounds mode for instances up to 60 requests (paper synthetic presets)'}
            @click=${() => void this.solveOptimum()}>Hindsight optimum</button>
          <span class="sep"></span>
          <button @click=${() => void navigator.clipboard?.writeText(location.href)} title="The link holds this view and its configuration">Copy link</button>
        </div>
        ${this.state === 'running' ? html`<kv-run-progress .progress=${this.progress} .label=${this.progressLabel} @cancel=${() => this.client?.cancel()}></kv-run-progress>` : nothing}
        ${this.state === 'cancelled' ? html`<p class="muted" role="status">Cancelled.</p>` : nothing}
        ${this.error ? html`<p class="error" role="alert" data-testid="run-error">${this.error}</p>` : nothing}
        ${this.optimumTemplate()}
        ${this.saved ? html`<p class=${this.saved.ok ? 'muted' : 'error'} data-testid="save-status">${this.saved.text}</p>` : nothing}
      </section>
      ${this.result
        ? html`<section class="card">
            <h3>Results</h3>
            <p class="muted" data-testid="engine-note">${this.result.engine === 'gpu' ? `${this.result.engineNote ?? 'GPU engine'}. No per-round KV timeline and no per-request energy with the GPU engine (energy totals are computed).` : 'CPU engine (Web Worker).'}</p>
            <kv-results-table .result=${this.result}></kv-results-table>
          </section>
          ${this.chartsReady ? html`<kv-result-charts .result=${this.result}></kv-result-charts>` : nothing}`
        : nothing}
      ${this.sweepTemplate()}`;
  }

  static override styles = [
    base,
    css`
      .actions {
        display: flex;
        align-items: center;
        gap: 0.6rem;
        flex-wrap: wrap;
        margin: 1rem 0 0.5rem;
      }
      .sep {
        width: 1px;
        height: 1.5rem;
        background: var(--line);
      }
      label {
        font-size: 0.92rem;
      }
      kv-result-charts {
        margin-bottom: 1rem;
      }
      .optimum-table {
        margin: 0.5rem 0;
      }
      .sweep-table {
        margin-top: 0.75rem;
      }
    `,
  ];
}

customElements.define('kv-experiment-view', KvExperimentView);
