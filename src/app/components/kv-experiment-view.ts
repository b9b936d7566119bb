/**
 * Experiment view: configuration (mirrored into the URL), run with progress and
 * cancel on the CPU engine in a Web Worker, results table and charts, rate sweep.
 * Every finished run is stored in History.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { WebGpuDetection } from '../../gpu/detect.ts';
import { newRecordId } from '../../storage/store.ts';
import { CancelledError, EngineClient } from '../../worker/client.ts';
import type { ExperimentResult, ProgressInfo, SweepResult } from '../../worker/protocol.ts';
import { configFromParams, configTitle, configToParams, isLmsys, toRunConfig, type ExperimentConfig } from '../config.ts';
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
  };

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
  }

  override connectedCallback(): void {
    super.connectedCallback();
    getStore()
      .then((s) => s.list('profile'))
      .then(
        (rs) => (this.profiles = rs.map((r) => ({ name: `profile:${r.id}`, label: `Profile: ${r.title}`, data: r.data }))),
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

  private async start(kind: 'run' | 'sweep'): Promise<void> {
    if (this.state === 'running') return;
    const cfg = { ...this.config };
    let run = toRunConfig(cfg, this.trace);
    if (typeof run !== 'string' && cfg.costModel.startsWith('profile:')) {
      const prof = this.profiles.find((p) => p.name === cfg.costModel);
      run = prof ? { ...run, profile: prof.data } : `The cost model ${cfg.costModel} is not a stored profile (deleted?). Pick another cost model.`;
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
        this.progressLabel = 'Running';
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
        this.error = errorText(e);
        this.state = 'error';
      }
    }
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
    const running = this.state === 'running';
    const lmsys = isLmsys(this.config.preset);
    return html`<h2>Experiment</h2>
      <section class="card">
        <kv-config-form .config=${this.config} ?disabled=${running} .profiles=${this.profiles} .traceLoaded=${this.trace?.name ?? null}
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
          <button @click=${() => void navigator.clipboard?.writeText(location.href)} title="The link holds this view and its configuration">Copy link</button>
        </div>
        ${running ? html`<kv-run-progress .progress=${this.progress} .label=${this.progressLabel} @cancel=${() => this.client?.cancel()}></kv-run-progress>` : nothing}
        ${this.state === 'cancelled' ? html`<p class="muted" role="status">Cancelled.</p>` : nothing}
        ${this.error ? html`<p class="error" role="alert" data-testid="run-error">${this.error}</p>` : nothing}
        ${this.saved ? html`<p class=${this.saved.ok ? 'muted' : 'error'} data-testid="save-status">${this.saved.text}</p>` : nothing}
      </section>
      ${this.result
        ? html`<section class="card">
            <h3>Results</h3>
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
      .sweep-table {
        margin-top: 0.75rem;
      }
    `,
  ];
}

customElements.define('kv-experiment-view', KvExperimentView);
