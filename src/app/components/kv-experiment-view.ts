/**
 * Experiment view: configuration (mirrored into the URL), run with progress and
 * cancel on the CPU engine in a Web Worker, results table and charts, rate sweep.
 * Every finished run is stored in History.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { WebGpuDetection } from '../../gpu/detect.ts';
import { newRecordId } from '../../storage/store.ts';
import { CancelledError, EngineClient } from '../../worker/client.ts';
import {
  SWEEP_METRICS,
  type ExperimentResult,
  type OptimumSummary,
  type ProgressInfo,
  type RunConfig,
  type SweepMetric,
  type SweepResult,
} from '../../worker/protocol.ts';
import { policyColor } from '../colors.ts';
import { downloadText, resultsCsv, sweepCsv } from '../export.ts';
import { gpuPolicyRefusal } from '../../gpu-engine/engine.ts';
import { gpuReplicaRefusal } from '../../gpu-engine/replica-support.ts';
import {
  checkSloText,
  configDifferences,
  configFromParams,
  configTitle,
  configToParams,
  isLmsys,
  optimumOffered,
  parseSweepRates,
  toRunConfig,
  type ExperimentConfig,
} from '../config.ts';
import { errorText, fixed } from '../format.ts';
import { isOptimumSummary, isRunData, type RunRecordData } from '../records.ts';
import { replaceParams } from '../route.ts';
import { getStore } from '../services.ts';
import { base } from '../theme.ts';
import './kv-config-form.ts';
import type { TraceFile } from './kv-config-form.ts';
import { KvPolicyList } from './kv-policy-list.ts';
import './kv-results-table.ts';
import type { KvCapacityPanel } from './kv-capacity-panel.ts';
import './kv-capacity-panel.ts';
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
    fieldErrors: { state: true },
    sweepError: { state: true },
    resultConfig: { state: true },
    sweepConfig: { state: true },
    latest: { state: true },
    sweepMetric: { state: true },
    csvState: { state: true },
    csvError: { state: true },
    storedCapacity: { state: true },
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
  /** Invalid form fields (input name → message), from the form's `validity-change`. */
  declare fieldErrors: Record<string, string>;
  /** What is wrong with the typed sweep rates, if anything. */
  declare sweepError: string | undefined;
  /** The configurations that produced the shown results (to mark results that no longer match the form). */
  declare resultConfig: ExperimentConfig | undefined;
  declare sweepConfig: ExperimentConfig | undefined;
  /** The configuration the shown hindsight optimum was solved for. */
  private optimumConfig: ExperimentConfig | undefined;
  /** Which output came last: shown first, where the user looks. */
  declare latest: 'run' | 'sweep';
  /** The metric the sweep's chart and table show. */
  declare sweepMetric: SweepMetric;
  declare csvState: 'idle' | 'running' | 'error';
  declare csvError: string | undefined;
  /** A capacity search opened from History, for the capacity panel. */
  declare storedCapacity: KvCapacityPanel['stored'];

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
    this.fieldErrors = {};
    this.latest = 'run';
    this.sweepMetric = 'meanLatency';
    this.csvState = 'idle';
  }

  /** Per-request CSV of the shown results: the worker runs their configuration again on the CPU engine. */
  private async downloadRequests(): Promise<void> {
    const cfg = this.resultConfig;
    if (!cfg || this.busy) return;
    const run = this.runConfigOf(cfg);
    if (typeof run === 'string') {
      this.csvState = 'error';
      this.csvError = run;
      return;
    }
    this.csvState = 'running';
    this.client ??= new EngineClient();
    try {
      const csv = await this.client.requestsCsv(run);
      downloadText('kvsched-requests.csv', csv, 'text/csv');
      this.csvState = 'idle';
    } catch (e) {
      this.csvState = 'error';
      this.csvError = `Per-request CSV: ${errorText(e)}`;
    }
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
        (rs) =>
          (this.profiles = rs.map((r) => ({
            name: `profile:${r.id}`,
            label: profileOptionLabel(r.title, r.data),
            data: r.data,
          }))),
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
      if (data.type === 'experiment') {
        this.result = data.result;
        this.resultConfig = this.config;
        this.latest = 'run';
        if (isOptimumSummary(data.optimum)) {
          this.optimum = data.optimum;
          this.optimumConfig = this.config;
          this.optimumState = 'done';
        }
      } else if (data.type === 'sweep') {
        this.sweep = data.result;
        this.sweepConfig = this.config;
        this.latest = 'sweep';
      } else {
        // A capacity search: the panel shows it (with the inputs it was searched with).
        this.storedCapacity = { config: this.config, requests: data.requests, result: data.result };
        await this.updateComplete;
        this.renderRoot.querySelector('kv-capacity-panel')?.scrollIntoView({ block: 'start' });
        return;
      }
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

  private static same(a: ExperimentConfig | undefined, b: ExperimentConfig | undefined): boolean {
    return a !== undefined && b !== undefined && configDifferences([a, b]).length === 0;
  }

  /** Stores a solved optimum with the shown run of the same configuration (so History's Open brings it back). */
  private async saveOptimum(o: OptimumSummary, cfg: ExperimentConfig): Promise<void> {
    const id = this.loadedRun;
    if (!id || !this.result || !KvExperimentView.same(this.resultConfig, cfg)) return;
    try {
      const store = await getStore();
      const rec = await store.get(id);
      if (!rec || !isRunData(rec.data) || rec.data.type !== 'experiment') return;
      await store.put({ ...rec, data: { ...rec.data, optimum: o } });
      this.saved = { ok: true, text: 'Saved to History, with the hindsight optimum.' };
    } catch (e) {
      this.saved = { ok: false, text: `The hindsight optimum was not saved: ${errorText(e)}` };
    }
  }

  /** Why the GPU engine refuses this configuration (replicas, policies without a WGSL port), from the engine layer. */
  private gpuRefusals(cfg: ExperimentConfig): string[] {
    if (cfg.engine !== 'gpu') return [];
    const out: string[] = [];
    const rep = gpuReplicaRefusal(cfg.replicas, cfg.router);
    if (rep !== undefined) out.push(`${rep}.`);
    for (const spec of cfg.policies) {
      try {
        const why = gpuPolicyRefusal(spec);
        if (why !== undefined) out.push(`${why}.`);
      } catch {
        // An invalid spec is reported by the policy list.
      }
    }
    return out;
  }

  /**
   * Why Run (or Sweep) cannot start now, as sentences shown beside the buttons; empty:
   * it can. The run then uses exactly the configuration the form shows.
   */
  private blockers(kind: 'run' | 'sweep'): string[] {
    const out = Object.values(this.fieldErrors);
    const cfg = this.config;
    if (!KvPolicyList.allValid(cfg.policies))
      out.push(cfg.policies.length === 0 ? 'Pick at least one policy.' : 'Fix the policy parameters marked in red.');
    const run = this.runConfigOf(cfg);
    if (typeof run === 'string' && !out.includes(run)) out.push(run);
    // A committed SLO can become invalid when the time mode changes (rounds have no s or ms).
    const slo = checkSloText(cfg.slo, cfg.mode);
    if (slo !== null && !out.includes(slo)) out.push(slo);
    if (kind === 'sweep') {
      if (!isLmsys(cfg.preset)) out.push('A sweep needs a generated LMSYS workload (it varies the arrival rate).');
      else if (cfg.engine === 'gpu')
        out.push('The rate sweep runs on the CPU engine only; choose Engine: CPU for a sweep.');
      if (this.sweepError) out.push(this.sweepError);
    } else if (cfg.engine === 'gpu') {
      out.push(...this.gpuRefusals(cfg));
      const gpu = this.gpuStatus();
      if (gpu?.available !== true)
        out.push(
          `The GPU engine is unavailable: ${gpu?.reason ?? 'WebGPU detection has not finished'}. Choose Engine: CPU.`,
        );
    }
    return out;
  }

  /** The worker's RunConfig for a configuration, or what is wrong with it. */
  private runConfigOf(cfg: ExperimentConfig): RunConfig | string {
    const run = toRunConfig(cfg, this.trace);
    if (typeof run !== 'string' && cfg.costModel.startsWith('profile:')) {
      const prof = this.profiles.find((p) => p.name === cfg.costModel);
      return prof
        ? { ...run, profile: prof.data }
        : `The cost model ${cfg.costModel} is not a stored profile (deleted?). Pick another cost model.`;
    }
    return run;
  }

  private get busy(): boolean {
    return this.state === 'running' || this.optimumState === 'running' || this.csvState === 'running';
  }

  private async start(kind: 'run' | 'sweep'): Promise<void> {
    if (this.busy) return;
    const cfg = { ...this.config };
    const blocked = this.blockers(kind);
    const run = this.runConfigOf(cfg);
    // The buttons are disabled with these reasons shown beside them; this covers Enter in a field.
    if (blocked.length > 0 || typeof run === 'string') return;
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
        this.resultConfig = cfg;
        this.latest = 'run';
        this.state = 'done';
        await charts;
        const o =
          this.optimumState === 'done' && KvExperimentView.same(this.optimumConfig, cfg) ? this.optimum : undefined;
        await this.save(configTitle(cfg), { type: 'experiment', config: cfg, result, ...(o ? { optimum: o } : {}) });
      } else {
        const rates = cfg.sweepRates;
        this.progressLabel = `Sweep over λ = ${rates.join(', ')}`;
        const result = await this.client.sweep({ base: run, rates }, (p) => (this.progress = p));
        this.sweep = result;
        this.sweepConfig = cfg;
        this.latest = 'sweep';
        this.state = 'done';
        await charts;
        await this.updateComplete;
        this.renderRoot.querySelector('[data-testid=sweep]')?.scrollIntoView({ block: 'start' });
        await this.save(configTitle(cfg, true), { type: 'sweep', config: cfg, result });
      }
    } catch (e) {
      if (e instanceof CancelledError || (e instanceof Error && e.name === 'AbortError')) {
        this.state = 'cancelled';
      } else {
        this.error =
          cfg.engine === 'gpu'
            ? `The GPU engine refused or failed (nothing was run on the CPU instead): ${errorText(e)}`
            : errorText(e);
        this.state = 'error';
      }
    }
  }

  private async solveOptimum(): Promise<void> {
    if (this.busy) return;
    const cfg = { ...this.config };
    const blocked = Object.values(this.fieldErrors);
    const run = blocked.length > 0 ? blocked.join(' ') : this.runConfigOf(cfg);
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
      const o = await this.client.optimum({ ...run, engine: 'cpu' }, KvExperimentView.OPTIMUM_TIME_LIMIT_SEC);
      this.optimum = o;
      this.optimumConfig = cfg;
      this.optimumState = 'done';
      await this.saveOptimum(o, cfg);
    } catch (e) {
      if (e instanceof CancelledError || (e instanceof Error && e.name === 'AbortError'))
        this.optimumState = 'cancelled';
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
    if (st === 'cancelled')
      return html`<p class="muted" role="status" data-testid="optimum-cancelled">Hindsight optimum cancelled.</p>`;
    if (st === 'error')
      return html`<p class="error" role="alert" data-testid="optimum-error">Hindsight optimum: ${this.optimumError}</p>`;
    const o = this.optimum;
    if (!o) return nothing;
    return html`<div data-testid="optimum" data-status=${o.status} data-objective=${o.objective} data-lower-bound=${o.lowerBound}>
      <p><strong>Hindsight optimum:</strong> <span data-testid="optimum-status">${o.status === 'optimal' ? 'optimal (proven)' : 'time limit reached (best schedule found, not proven optimal)'}</span>;
        objective Σ(c − a) = <span data-testid="optimum-objective">${o.objective}</span> rounds, lower bound <span data-testid="optimum-lower-bound">${o.lowerBound}</span>
        (n = ${o.requests}, M = ${o.memory}, ${o.nodes.toLocaleString('en-US')} nodes, ${fixed(o.seconds, 2)} s)${
          o.localSearch === null
            ? nothing
            : html`; the local search over start orders found <span data-testid="optimum-local-search">${o.localSearch}</span> before the branch and bound`
        }.</p>
      <table class="optimum-table">
        <thead><tr><th>policy</th><th class="num">total latency Σ(c − a) (rounds)</th><th class="num">ratio to optimum</th>${o.status === 'optimal' ? nothing : html`<th class="num">ratio to lower bound</th>`}</tr></thead>
        <tbody>${o.policies.map(
          (p) => html`<tr data-policy=${p.policy}><td><code>${p.policy}</code></td>
          <td class="num">${p.total ?? 'failed'}</td>
          <td class="num" data-key="ratio" data-value=${p.total === null || o.objective === 0 ? '' : String(p.total / o.objective)}>${p.total === null || o.objective === 0 ? '—' : fixed(p.total / o.objective, 3)}</td>
          ${o.status === 'optimal' ? nothing : html`<td class="num">${p.total === null || o.lowerBound <= 0 ? '—' : fixed(p.total / o.lowerBound, 3)}</td>`}</tr>`,
        )}</tbody>
      </table>
      <p class="muted">Total latency of each configured policy on the CPU engine (the same instance, rounds mode), divided by the optimum's objective${o.status === 'optimal' ? '' : ' (the best schedule found; the lower bound gives the ratio it proves at most)'}.</p>
    </div>`;
  }

  private sweepTemplate(): TemplateResult | typeof nothing {
    const s = this.sweep;
    if (!s || !this.chartsReady) return nothing;
    const unit = s.mode === 'seconds' ? 's' : 'rounds';
    const per = s.mode === 'seconds' ? 's' : 'round';
    const stale = this.staleNote(this.sweepConfig, true);
    const metrics: Record<SweepMetric, { label: string; decimals: number }> = {
      meanLatency: { label: `mean latency (${unit})`, decimals: s.mode === 'seconds' ? 3 : 1 },
      p99Latency: { label: `p99 latency (${unit})`, decimals: s.mode === 'seconds' ? 3 : 1 },
      meanTtft: { label: `mean TTFT (${unit})`, decimals: s.mode === 'seconds' ? 3 : 1 },
      p99Ttft: { label: `p99 TTFT (${unit})`, decimals: s.mode === 'seconds' ? 3 : 1 },
      throughput: { label: `throughput (tokens/${per})`, decimals: 1 },
      evictions: { label: 'evictions (count)', decimals: 0 },
    };
    // Sweeps stored before the other metrics were kept have mean latency only.
    const available = SWEEP_METRICS.filter((m) => s.series.every((x) => Array.isArray(x[m])));
    const metric = available.includes(this.sweepMetric) ? this.sweepMetric : 'meanLatency';
    const m = metrics[metric];
    const values = (x: SweepResult['series'][number]): (number | null)[] => x[metric] ?? [];
    return html`<section class="card ${stale ? 'stale' : ''}" data-testid="sweep" data-stale=${stale ? 'true' : 'false'}>
      <h3>Rate sweep${this.sweepConfig ? html` <span class="muted subtitle">${configTitle(this.sweepConfig, true)}</span>` : nothing}</h3>
      ${stale ? html`<p class="stale-note" role="status" data-testid="sweep-stale-note">${stale}</p>` : nothing}
      <label class="metric">Metric
        <select name="sweep-metric" @change=${(e: Event) => (this.sweepMetric = (e.target as HTMLSelectElement).value as SweepMetric)}>
          ${available.map((k) => html`<option value=${k} ?selected=${k === metric}>${metrics[k].label}</option>`)}
        </select></label>
      <kv-chart .spec=${{
        kind: 'line',
        title: `${m.label.replace(/ \(.*\)$/, '')} vs arrival rate`,
        xLabel: `arrival rate λ (requests/${per})`,
        yLabel: m.label,
        yMin: 0,
        series: s.series.map((x) => ({
          label: x.policy,
          showPoints: true,
          color: policyColor(x.policy),
          points: s.rates.flatMap((r, i) => {
            const v = values(x)[i];
            return v === null || v === undefined ? [] : [{ x: r, y: v }];
          }),
        })),
      }}></kv-chart>
      <div class="scroll" tabindex="0" role="region" aria-label="Sweep results (scrolls sideways when narrow)"><table class="sweep-table" data-testid="sweep-table" data-metric=${metric}>
        <thead><tr><th>policy</th>${s.rates.map((r) => html`<th class="num">λ = ${r}/${per}</th>`)}</tr></thead>
        <tbody>${s.series.map((x) => html`<tr data-policy=${x.policy}><td><code>${x.policy}</code></td>${values(x).map((v) => html`<td class="num" data-value=${v === null ? '' : String(v)}>${v === null ? 'failed' : fixed(v, m.decimals)}</td>`)}</tr>`)}</tbody>
      </table></div>
      <p class="muted">${m.label} per policy and arrival rate; wall time ${fixed(s.wallMs / 1000, 1)} s.
        <button data-testid="sweep-csv" @click=${() => downloadText(`kvsched-sweep.csv`, sweepCsv(s), 'text/csv')}>Download CSV (every metric)</button></p>
    </section>`;
  }

  /** A cost model as the user knows it: a profile's name, not its record id. */
  private costModelLabel(name: string): string {
    if (name === 'a100-llama2-70b-tp2') return 'A100 reference (Llama-2 70B, 2× A100)';
    const p = this.profiles.find((x) => x.name === name);
    return p ? p.label : name.startsWith('profile:') ? 'a deleted calibration profile' : name;
  }

  /** A note on results that no longer match the form (empty: they match). */
  private staleNote(cfg: ExperimentConfig | undefined, sweep: boolean): string {
    if (!cfg) return '';
    if (this.state === 'running') return 'Previous results: a new run is in progress and will replace them.';
    const now = this.config;
    const diffs = configDifferences(sweep ? [{ ...cfg, rate: now.rate }, now] : [cfg, now], (n) =>
      this.costModelLabel(n),
    );
    const parts = diffs.map((d) => `${d.label} ${d.values[0]} → ${d.values[1]}`);
    if (sweep && cfg.sweepRates.join(',') !== now.sweepRates.join(','))
      parts.push(`rates ${cfg.sweepRates.join(', ')} → ${now.sweepRates.join(', ')}`);
    return parts.length === 0
      ? ''
      : `These results are from a different configuration than the form shows (${parts.join('; ')}). Run again to update them.`;
  }

  private resultsTemplate(): TemplateResult | typeof nothing {
    const r = this.result;
    if (!r) return nothing;
    const stale = this.staleNote(this.resultConfig, false);
    return html`<section class="card ${stale ? 'stale' : ''}" data-testid="results-card" data-stale=${stale ? 'true' : 'false'}>
        <h3>Results${this.resultConfig ? html` <span class="muted subtitle">${configTitle(this.resultConfig)}</span>` : nothing}</h3>
        ${stale ? html`<p class="stale-note" role="status" data-testid="stale-note">${stale}</p>` : nothing}
        <p class="muted" data-testid="engine-note">${r.engine === 'gpu' ? `${r.engineNote ?? 'GPU engine'}. No per-round KV timeline and no per-request energy with the GPU engine (energy totals are computed).` : 'CPU engine (Web Worker).'}</p>
        <kv-results-table .result=${r} .costModelLabel=${this.costModelLabel(r.costModel)}></kv-results-table>
        <div class="downloads">
          <button data-testid="results-csv" @click=${() => downloadText('kvsched-results.csv', resultsCsv(r), 'text/csv')}>Download table (CSV)</button>
          <button data-testid="requests-csv" ?disabled=${this.busy || this.csvState === 'running' || !this.resultConfig}
            @click=${() => void this.downloadRequests()}>Download per-request data (CSV)</button>
          ${this.csvState === 'running' ? html`<span class="muted" role="status" data-testid="requests-csv-running">Running the configuration again in the worker for the per-request rows…</span>` : nothing}
          ${this.csvState === 'error' ? html`<span class="error" role="alert" data-testid="requests-csv-error">${this.csvError}</span>` : nothing}
        </div>
      </section>
      ${this.chartsReady ? html`<kv-result-charts .result=${r} class=${stale ? 'stale' : ''}></kv-result-charts>` : nothing}`;
  }

  override render(): TemplateResult {
    const running = this.busy;
    const offerOptimum = optimumOffered(this.config);
    const lmsys = isLmsys(this.config.preset);
    const runBlocked = this.blockers('run');
    const sweepBlocked = this.blockers('sweep').filter((b) => !runBlocked.includes(b));
    const output =
      this.latest === 'sweep'
        ? [this.sweepTemplate(), this.resultsTemplate()]
        : [this.resultsTemplate(), this.sweepTemplate()];
    return html`<h2>Experiment</h2>
      <section class="card">
        <kv-config-form .config=${this.config} ?disabled=${running} .gpuRefusal=${this.config.engine === 'gpu' ? gpuReplicaRefusal(this.config.replicas, this.config.router) : undefined} .profiles=${this.profiles} .gpu=${this.gpuStatus()} .traceLoaded=${this.trace?.name ?? null}
          @config-change=${(e: CustomEvent<ExperimentConfig>) => this.setConfig(e.detail)}
          @validity-change=${(e: CustomEvent<Record<string, string>>) => (this.fieldErrors = e.detail)}
          @run-request=${() => void this.start('run')}
          @trace-change=${(e: CustomEvent<TraceFile>) => {
            this.trace = e.detail;
            this.setConfig({ ...this.config, traceName: e.detail.name });
          }}></kv-config-form>
        <div class="actions">
          <button class="primary" data-testid="run" ?disabled=${running || runBlocked.length > 0}
            aria-describedby=${runBlocked.length > 0 ? 'run-blocked' : nothing} @click=${() => void this.start('run')}>Run experiment</button>
          <span class="sep"></span>
          <label for="sweep-rates">Sweep rates λ</label>
          <input type="text" id="sweep-rates" name="sweep-rates" .value=${this.sweepText} ?disabled=${running || !lmsys} size="16"
            aria-invalid=${this.sweepError ? 'true' : 'false'}
            @input=${(e: Event) => {
              const r = parseSweepRates((e.target as HTMLInputElement).value);
              this.sweepError = 'error' in r ? r.error : undefined;
            }}
            @keydown=${(e: KeyboardEvent) => {
              if (e.key !== 'Enter') return;
              (e.target as HTMLInputElement).dispatchEvent(new Event('change'));
              void this.start('sweep');
            }}
            @change=${(e: Event) => {
              const text = (e.target as HTMLInputElement).value;
              this.sweepText = text;
              const r = parseSweepRates(text);
              this.sweepError = 'error' in r ? r.error : undefined;
              if ('value' in r) this.setConfig({ ...this.config, sweepRates: r.value });
            }} />
          <button data-testid="sweep-run" ?disabled=${running || runBlocked.length + sweepBlocked.length > 0}
            aria-describedby=${runBlocked.length + sweepBlocked.length > 0 ? 'run-blocked' : nothing}
            @click=${() => void this.start('sweep')}>Run sweep</button>
          <span class="sep"></span>
          <button data-testid="optimum-run" ?disabled=${running || !offerOptimum || Object.keys(this.fieldErrors).length > 0}
            aria-describedby="optimum-why"
            @click=${() => void this.solveOptimum()}>Hindsight optimum</button>
          <span class="sep"></span>
          <button @click=${() => void navigator.clipboard?.writeText(location.href)} title="The link holds this view and its configuration">Copy link</button>
        </div>
        ${
          runBlocked.length + sweepBlocked.length > 0
            ? html`<ul class="blocked" id="run-blocked" data-testid="run-blocked">
              ${runBlocked.length > 0 ? html`<li><strong>Run and Sweep are disabled:</strong> ${runBlocked.join(' ')}</li>` : nothing}
              ${sweepBlocked.length > 0 ? html`<li><strong>Sweep is disabled:</strong> ${sweepBlocked.join(' ')}</li>` : nothing}
            </ul>`
            : nothing
        }
        <p class="muted small" id="optimum-why">${
          offerOptimum
            ? `Hindsight optimum: the exact optimum by local search and branch and bound (time limit ${KvExperimentView.OPTIMUM_TIME_LIMIT_SEC} s), in the worker.`
            : `Hindsight optimum: offered in rounds mode for instances of up to 60 requests (the paper-synthetic presets)${this.config.replicas > 1 ? ', for one replica (it is the optimum of one machine)' : ''}.`
        }</p>
        ${this.state === 'running' ? html`<kv-run-progress .progress=${this.progress} .label=${this.progressLabel} .gpu=${this.config.engine === 'gpu'} @cancel=${() => this.client?.cancel()}></kv-run-progress>` : nothing}
        ${this.state === 'cancelled' ? html`<p class="muted" role="status">Cancelled.</p>` : nothing}
        ${this.error ? html`<p class="error" role="alert" data-testid="run-error">${this.error}</p>` : nothing}
        ${this.optimumTemplate()}
        ${this.saved ? html`<p class=${this.saved.ok ? 'muted' : 'error'} data-testid="save-status">${this.saved.text}</p>` : nothing}
      </section>
      ${output}
      <kv-capacity-panel .config=${this.config} .runConfig=${this.runConfigOf(this.config)} .stored=${this.storedCapacity}
        .formBlocked=${[
          ...Object.values(this.fieldErrors),
          ...(KvPolicyList.allValid(this.config.policies) ? [] : ['Fix the policy parameters marked in red.']),
        ]}></kv-capacity-panel>`;
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
      .scroll {
        overflow-x: auto;
      }
      .downloads {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        margin-top: 0.5rem;
      }
      .metric {
        display: inline-flex;
        gap: 0.5rem;
        align-items: center;
        margin-bottom: 0.5rem;
      }
      .blocked {
        margin: 0.25rem 0 0.5rem;
        padding: 0.45rem 0.75rem 0.45rem 1.6rem;
        border: 1px solid var(--warn);
        background: var(--warn-bg);
        border-radius: 6px;
        font-size: 0.9rem;
      }
      .small {
        font-size: 0.85rem;
      }
      .subtitle {
        font-weight: 400;
        font-size: 0.9rem;
        margin-left: 0.4rem;
      }
      .stale {
        border-left: 4px solid var(--warn);
      }
      kv-result-charts.stale {
        border-left: 4px solid var(--warn);
        padding-left: 0.5rem;
      }
    `,
  ];
}

customElements.define('kv-experiment-view', KvExperimentView);
