/**
 * Capacity under an SLO: for each policy of the form, the largest arrival rate at which
 * the SLO holds at a target attainment, found in the engine worker by the same bracketing
 * and bisection as `kvsched capacity` (src/experiment/capacity.ts), with progress per
 * probe, cancel, the probes and bracket, and a chart of attainment against rate. The
 * workload, policies, SLO, replicas and cost model come from the experiment form; the
 * panel adds the target attainment and the requests per probe.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { newRecordId } from '../../storage/store.ts';
import { CancelledError, EngineClient } from '../../worker/client.ts';
import type { CapacityConfig, CapacityResult, ProgressInfo, RunConfig } from '../../worker/protocol.ts';
import { policyColor } from '../colors.ts';
import { checkNumber, checkSloText, configTitle, configToParams, isLmsys, type ExperimentConfig } from '../config.ts';
import { getStore } from '../services.ts';
import { capacityCsv, downloadText } from '../export.ts';
import { errorText, fixed, int } from '../format.ts';
import { base } from '../theme.ts';
import './kv-chart.ts';
import type { ChartSpec, LineSeries } from './kv-chart.ts';

/** What the panel's own inputs hold. */
interface PanelInputs {
  attainment: number;
  requests: number;
}

/** Why a capacity search of this configuration cannot start (empty: it can). */
export function capacityBlockers(cfg: ExperimentConfig, run: RunConfig | string): string[] {
  const out: string[] = [];
  if (cfg.slo.trim() === '') out.push('Enter an SLO in the form (SLO and replicas), e.g. ttft=2s,tpot=0.2s.');
  else {
    const e = checkSloText(cfg.slo, 'seconds');
    if (e !== null) out.push(e);
  }
  if (cfg.mode !== 'seconds') out.push('Capacity is an arrival rate per second: choose Time: seconds.');
  if (!isLmsys(cfg.preset) && cfg.preset !== 'trace')
    out.push('Capacity rescales an LMSYS stand-in or a trace in time: choose an LMSYS preset or a trace.');
  if (typeof run === 'string') out.push(run);
  return out;
}

export class KvCapacityPanel extends LitElement {
  static override properties = {
    config: { attribute: false },
    runConfig: { attribute: false },
    formBlocked: { attribute: false },
    inputs: { state: true },
    inputErrors: { state: true },
    state: { type: String, reflect: true, attribute: 'data-state' },
    progress: { state: true },
    result: { state: true },
    resultKey: { state: true },
    error: { state: true },
    saved: { state: true },
    stored: { attribute: false },
  };
  /** A capacity search opened from History (set by the view). */
  declare stored: { config: ExperimentConfig; requests: number; result: CapacityResult } | undefined;
  declare saved: { ok: boolean; text: string } | undefined;
  /** The experiment form's configuration and its worker RunConfig (or what is wrong with it). */
  declare config: ExperimentConfig;
  declare runConfig: RunConfig | string;
  /** Problems of the form's fields (shown beside them) that also block a search. */
  declare formBlocked: string[];
  declare inputs: PanelInputs;
  declare inputErrors: Partial<Record<keyof PanelInputs, string>>;
  declare state: 'idle' | 'running' | 'done' | 'error' | 'cancelled';
  declare progress: ProgressInfo | undefined;
  declare result: CapacityResult | undefined;
  /** What the shown result was searched for (to mark it stale when the form changes). */
  declare resultKey: string | undefined;
  declare error: string | undefined;
  private client: EngineClient | undefined;

  constructor() {
    super();
    this.formBlocked = [];
    this.inputs = { attainment: 0.9, requests: 2000 };
    this.inputErrors = {};
    this.state = 'idle';
  }

  override disconnectedCallback(): void {
    this.client?.dispose();
    this.client = undefined;
    super.disconnectedCallback();
  }

  /** The worker's capacity request, or what is wrong. */
  private request(): CapacityConfig | string[] {
    const cfg = this.config;
    const blocked = [...this.formBlocked, ...capacityBlockers(cfg, this.runConfig), ...Object.values(this.inputErrors)];
    if (blocked.length > 0 || typeof this.runConfig === 'string') return blocked;
    const run = this.runConfig;
    const w = run.workload;
    // One stand-in of `requests` requests, rescaled for every probe (its own rate does not matter).
    const workload = w.kind === 'lmsys' ? { ...w, requests: this.inputs.requests } : w;
    const { engine: _engine, slo: _slo, ...rest } = run;
    return { base: { ...rest, workload }, slo: cfg.slo, attainment: this.inputs.attainment };
  }

  /** What a result was searched for: the form's settings that matter and the panel's inputs. */
  private static keyOf(cfg: ExperimentConfig, inputs: PanelInputs): string {
    const p = configToParams(cfg);
    // The sweep, the form's request count (the panel has its own) and the engine (always CPU) do not matter.
    for (const k of ['sweep', 'n', 'eng']) p.delete(k);
    return JSON.stringify([p.toString(), isLmsys(cfg.preset) ? inputs : { ...inputs, requests: null }]);
  }

  private async search(): Promise<void> {
    const req = this.request();
    if (Array.isArray(req) || this.state === 'running') return;
    this.state = 'running';
    this.progress = undefined;
    this.error = undefined;
    this.client ??= new EngineClient();
    try {
      const cfg = { ...this.config };
      const inputs = { ...this.inputs };
      const result = await this.client.capacity(req, (p) => (this.progress = p));
      this.result = result;
      this.resultKey = KvCapacityPanel.keyOf(cfg, inputs);
      this.state = 'done';
      await this.save(cfg, inputs, result);
    } catch (e) {
      if (e instanceof CancelledError || (e instanceof Error && e.name === 'AbortError')) this.state = 'cancelled';
      else {
        this.error = errorText(e);
        this.state = 'error';
      }
    }
  }

  /** Stores the search in History (a `run` record of type `capacity`); History's Open brings it back. */
  private async save(cfg: ExperimentConfig, inputs: PanelInputs, result: CapacityResult): Promise<void> {
    try {
      const store = await getStore();
      const title = `Capacity under SLO ${result.slo} at ≥ ${fixed(result.attainment * 100, 1)} %: ${configTitle(cfg)}`;
      await store.put({
        id: newRecordId('run'),
        kind: 'run',
        createdAt: Date.now(),
        title,
        data: { type: 'capacity', config: cfg, requests: inputs.requests, result },
      });
      this.saved = { ok: true, text: 'Saved to History.' };
    } catch (e) {
      this.saved = { ok: false, text: `Not saved to History: ${errorText(e)}` };
    }
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // A search opened from History: its result, and the inputs it was searched with.
    if (changed.has('stored') && this.stored) {
      const st = this.stored;
      this.inputs = { attainment: st.result.attainment, requests: st.requests };
      this.inputErrors = {};
      this.result = st.result;
      this.resultKey = KvCapacityPanel.keyOf(st.config, this.inputs);
      this.state = 'done';
      this.saved = { ok: true, text: 'Showing the stored capacity search.' };
    }
  }

  private input(
    key: keyof PanelInputs,
    field: 'attainment' | 'capacityRequests',
    label: string,
    step: string,
    disabled: boolean,
  ): TemplateResult {
    const err = this.inputErrors[key];
    const id = `cap-${key}`;
    const check = (e: Event): void => {
      const c = checkNumber(field, (e.target as HTMLInputElement).value);
      const next = { ...this.inputErrors };
      if ('error' in c) next[key] = c.error;
      else {
        delete next[key];
        this.inputs = { ...this.inputs, [key]: c.value };
      }
      this.inputErrors = next;
    };
    return html`<div class="in"><label for=${id}>${label}</label>
      <input id=${id} name=${id} type="number" step=${step} .value=${String(this.inputs[key])} ?disabled=${disabled}
        aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? `${id}-err` : nothing}
        @input=${check} @change=${check}
        @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && void this.search()} />
      ${err ? html`<span class="field-error" id="${id}-err" data-testid="capacity-field-error">${err}</span>` : nothing}</div>`;
  }

  private chartSpec(r: CapacityResult): ChartSpec {
    const rates = r.policies.flatMap((p) => p.probes.map((q) => q.rate));
    const lo = Math.min(...rates);
    const hi = Math.max(...rates);
    const series: LineSeries[] = r.policies.map((p) => ({
      label: p.policy,
      color: policyColor(p.policy),
      showPoints: true,
      // A failed probe (stuck) has no attainment: drawn at 0, as it counts as missed.
      points: [...p.probes]
        .sort((a, b) => a.rate - b.rate)
        .map((q) => ({ x: q.rate, y: Number.isNaN(q.attainment) ? 0 : q.attainment })),
    }));
    series.push({
      label: `target ${fixed(r.attainment * 100, 0)} %`,
      color: '#B3261E',
      dashed: true,
      points: [
        { x: lo, y: r.attainment },
        { x: hi, y: r.attainment },
      ],
    });
    return {
      kind: 'line',
      title: 'SLO attainment against arrival rate (every probe)',
      xLabel: `arrival rate λ (requests/s${hi / lo > 20 ? ', log scale' : ''})`,
      yLabel: 'attainment (fraction of requests)',
      yMin: 0,
      yMax: 1,
      logX: hi / lo > 20,
      series,
    };
  }

  private resultTemplate(stale: boolean): TemplateResult | typeof nothing {
    const r = this.result;
    if (!r) return nothing;
    return html`<div class=${stale ? 'stale' : ''} data-testid="capacity-result" data-stale=${String(stale)}>
      ${stale ? html`<p class="stale-note" role="status">These capacities are from a different configuration than the form and panel show. Search again to update them.</p>` : nothing}
      <div class="scroll" tabindex="0" role="region" aria-label="Capacity per policy (scrolls sideways when narrow)">
      <table data-testid="capacity-table">
        <thead><tr><th>policy</th><th class="num">capacity (req/s)</th><th class="num">bracket met (req/s)</th><th class="num">bracket missed (req/s)</th><th class="num">probes</th><th class="num">attainment at capacity (%)</th></tr></thead>
        <tbody>${r.policies.map((p) => {
          const at = p.probes.find((q) => q.rate === p.capacity && q.met);
          return html`<tr data-policy=${p.policy}><td><code>${p.policy}</code></td>
            <td class="num" data-key="capacity" data-value=${String(p.capacity)}>${p.hi === null ? '≥ ' : ''}${fixed(p.capacity, 3)}</td>
            <td class="num" data-key="lo">${fixed(p.lo, 3)}</td>
            <td class="num" data-key="hi">${p.hi === null ? '—' : fixed(p.hi, 3)}</td>
            <td class="num" data-key="probes" data-value=${String(p.probes.length)}>${int(p.probes.length)}</td>
            <td class="num" data-key="attainment">${at ? fixed(at.attainment * 100, 1) : '—'}</td></tr>`;
        })}</tbody>
      </table></div>
      <p class="muted small">${r.description}, M = ${int(r.memory)} tokens, SLO <code>${r.slo}</code> at attainment ≥ ${fixed(r.attainment * 100, 1)} %; ${fixed(r.wallMs / 1000, 1)} s in the worker. Capacity: the largest probed rate that met the SLO (0: none did down to 0.001/s); the bracket: the last rate that met it and the lowest that missed it ("—": met at every probe up to 10⁶/s, so the capacity is at least the rate shown, marked ≥). A probe where the policy got stuck counts as missed.</p>
      <p><button data-testid="capacity-csv" @click=${() => downloadText('kvsched-capacity.csv', capacityCsv(r), 'text/csv')}>Download CSV (every probe)</button></p>
      <kv-chart data-testid="capacity-chart" .spec=${this.chartSpec(r)}></kv-chart>
    </div>`;
  }

  override render(): TemplateResult {
    const req = this.request();
    const blocked = Array.isArray(req) ? req : [];
    const running = this.state === 'running';
    const stale = this.result !== undefined && KvCapacityPanel.keyOf(this.config, this.inputs) !== this.resultKey;
    const p = this.progress;
    const cfg = this.config;
    return html`<section class="card" data-testid="capacity-panel">
      <h3>Capacity under an SLO</h3>
      <p class="muted small">For each policy in the form: the largest arrival rate at which the SLO ${cfg.slo ? html`<code>${cfg.slo}</code>` : '(set it in the form)'} holds for the target fraction of requests. The form's workload is drawn once and rescaled in time for every probe (as <code>kvsched capacity</code>); from 10/s the rate doubles while the SLO holds (halves while not), then the bracket is bisected to 2 %. CPU engine${cfg.replicas > 1 ? `, ${cfg.replicas} replicas (${cfg.router}) per policy` : ''}.</p>
      <div class="inputs">
        ${this.input('attainment', 'attainment', 'Target attainment (0–1]', '0.01', running)}
        ${isLmsys(cfg.preset) ? this.input('requests', 'capacityRequests', 'Requests per probe', '500', running) : nothing}
        <button class="primary" data-testid="capacity-run" ?disabled=${running || blocked.length > 0}
          aria-describedby=${blocked.length > 0 ? 'capacity-blocked' : nothing} @click=${() => void this.search()}>Find capacity</button>
      </div>
      ${blocked.length > 0 ? html`<p class="blocked" id="capacity-blocked" data-testid="capacity-blocked"><strong>Find capacity is disabled:</strong> ${blocked.join(' ')}</p>` : nothing}
      ${
        running
          ? html`<div class="progress" role="status" aria-live="polite">
            <progress max="100" .value=${p ? Math.round(p.fraction * 100) : 0} aria-label="capacity search progress"></progress>
            <span data-testid="capacity-progress">${
              p
                ? html`<code>${p.policy}</code> (policy ${p.run} of ${p.runs}): probe ${(p.probes ?? 0) + 1} at ${fixed(p.probeRate ?? 0, 3)} req/s`
                : 'Preparing the workload…'
            }</span>
            <button data-testid="capacity-cancel" @click=${() => this.client?.cancel()}>Cancel</button></div>`
          : nothing
      }
      ${this.state === 'cancelled' ? html`<p class="muted" role="status" data-testid="capacity-cancelled">Cancelled.</p>` : nothing}
      ${this.error ? html`<p class="error" role="alert" data-testid="capacity-error">${this.error}</p>` : nothing}
      ${this.saved && !running ? html`<p class=${this.saved.ok ? 'muted small' : 'error'} data-testid="capacity-saved">${this.saved.text}</p>` : nothing}
      ${this.resultTemplate(stale)}
    </section>`;
  }

  static override styles = [
    base,
    css`
      .in input {
        width: 9rem;
      }
      .field-error {
        color: var(--bad);
        font-size: 0.8rem;
        max-width: 22rem;
      }
      .blocked {
        padding: 0.45rem 0.75rem;
        border: 1px solid var(--warn);
        background: var(--warn-bg);
        border-radius: 6px;
        font-size: 0.9rem;
      }
      .progress {
        display: flex;
        gap: 0.75rem;
        align-items: center;
        flex-wrap: wrap;
      }
      progress {
        width: 16rem;
        height: 0.9rem;
        accent-color: var(--accent);
      }
      .scroll {
        overflow-x: auto;
      }
      th,
      th.num {
        white-space: normal;
        vertical-align: bottom;
      }
      .small {
        font-size: 0.85rem;
      }
      .stale {
        border-left: 4px solid var(--warn);
        padding-left: 0.5rem;
      }
    `,
  ];
}

customElements.define('kv-capacity-panel', KvCapacityPanel);
