/**
 * Compare devices: stored calibration profiles side by side, their per-term speed
 * relative to the A100 model, and one fixed experiment run in the engine worker on
 * the A100 model and on each profile's cost model.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { DEFAULT_COST_MODEL } from '../../cost/registry.ts';
import { CancelledError, EngineClient } from '../../worker/client.ts';
import type { CapacityPolicyResult, RunConfig } from '../../worker/protocol.ts';
import { loadStoredProfiles, ratioBars, type Profile } from '../calibration.ts';
import { checkNumber, checkSloText, normalSlo } from '../config.ts';
import { dateTime, errorText, fixed, int } from '../format.ts';
import { createPolicy } from '../../policies/registry.ts';
import { base } from '../theme.ts';
import './kv-profile-table.ts';
import './kv-ratio-bars.ts';

interface ProfileEntry {
  id: string;
  title: string;
  profile: Profile;
}

/** One device's result of the comparison experiment (null numbers: the policy failed). */
interface DeviceRow {
  device: string;
  costModel: string;
  meanLatency: number | null;
  p99Latency: number | null;
  throughput: number | null;
  error?: string;
}

/** The fixed comparison experiment: LMSYS stand-in, 1,000 requests, λ = 10/s, M = 16492, seconds mode, MC-SF, seed 1. */
export const COMPARE_RUN: Omit<RunConfig, 'costModel'> = {
  workload: { kind: 'lmsys', requests: 1000, rate: 10 },
  mode: 'seconds',
  memory: 16492,
  seed: 1,
  predict: 'exact',
  policies: ['mcsf'],
};

/** One device's capacity under the chosen SLO (null: the search failed). */
interface CapacityRow {
  device: string;
  costModel: string;
  result: CapacityPolicyResult | null;
  error?: string;
}

/** The capacity comparison's inputs as typed, and their problems. */
interface CapacityInputs {
  slo: string;
  attainment: string;
  policy: string;
  requests: string;
}

export class KvCompareView extends LitElement {
  static override properties = {
    capInputs: { state: true },
    capRows: { state: true },
    capRunning: { state: true },
    capError: { state: true },
    profiles: { state: true },
    error: { state: true },
    invalid: { state: true },
    rows: { state: true },
    running: { state: true },
    runError: { state: true },
  };
  declare profiles: ProfileEntry[] | undefined;
  declare invalid: string[];
  declare error: string | undefined;
  declare rows: DeviceRow[] | undefined;
  declare running: string | undefined;
  declare runError: string | undefined;
  declare capInputs: CapacityInputs;
  declare capRows: CapacityRow[] | undefined;
  declare capRunning: string | undefined;
  declare capError: string | undefined;
  private client: EngineClient | undefined;

  constructor() {
    super();
    this.invalid = [];
    this.capInputs = { slo: 'ttft=2s,tpot=0.2s', attainment: '0.9', policy: 'mcsf', requests: '1000' };
  }

  /** The devices: the A100 reference, then every stored profile (its verdict in the name when not good). */
  private devices(ps: ProfileEntry[]): { device: string; costModel: string; profile?: Profile }[] {
    return [
      { device: 'A100 reference (Llama-2 70B, 2×A100)', costModel: DEFAULT_COST_MODEL },
      ...ps.map((p) => ({
        device:
          p.profile.quality.verdict === 'good'
            ? p.title
            : `${p.title} [${p.profile.quality.verdict}${p.profile.quality.verdict === 'unusable' ? ': predictions not trustworthy' : ''}]`,
        costModel: `profile:${p.id}`,
        profile: p.profile,
      })),
    ];
  }

  /** Problems of the capacity inputs, by input (the same checks as the experiment form and the CLI). */
  private capProblems(): Partial<Record<keyof CapacityInputs, string>> {
    const c = this.capInputs;
    const out: Partial<Record<keyof CapacityInputs, string>> = {};
    const slo = c.slo.trim() === '' ? 'SLO: give at least one term, e.g. ttft=2s.' : checkSloText(c.slo, 'seconds');
    if (slo !== null) out.slo = slo;
    const a = checkNumber('attainment', c.attainment);
    if ('error' in a) out.attainment = a.error;
    const n = checkNumber('capacityRequests', c.requests);
    if ('error' in n) out.requests = n.error;
    try {
      createPolicy(c.policy.trim());
    } catch (e) {
      out.policy = `Policy: ${errorText(e)}.`;
    }
    return out;
  }

  /** Capacity of one policy under the SLO on each device's cost model, one device after another in the worker. */
  private async compareCapacity(): Promise<void> {
    if (Object.keys(this.capProblems()).length > 0 || this.capRunning !== undefined) return;
    const c = this.capInputs;
    const jobs = this.devices(this.profiles ?? []);
    const requests = Number(c.requests);
    this.client ??= new EngineClient();
    const client = this.client;
    this.capRows = [];
    this.capError = undefined;
    try {
      for (const [i, job] of jobs.entries()) {
        this.capRunning = `Searching ${i + 1} of ${jobs.length}: ${job.device}`;
        const base: RunConfig = {
          ...COMPARE_RUN,
          workload: { kind: 'lmsys', requests, rate: 10 },
          policies: [c.policy.trim()],
          costModel: job.costModel,
          ...(job.profile ? { profile: job.profile } : {}),
        };
        const r = await client.capacity(
          { base, slo: normalSlo(c.slo), attainment: Number(c.attainment) },
          (p) =>
            (this.capRunning = `Searching ${i + 1} of ${jobs.length}: ${job.device} — probe ${(p.probes ?? 0) + 1} at ${fixed(p.probeRate ?? 0, 3)} req/s`),
        );
        this.capRows = [
          ...this.capRows,
          { device: job.device, costModel: job.costModel, result: r.policies[0] ?? null },
        ];
      }
    } catch (e) {
      this.capError = e instanceof CancelledError ? 'Cancelled.' : errorText(e);
    } finally {
      this.capRunning = undefined;
    }
  }

  override disconnectedCallback(): void {
    this.client?.dispose();
    this.client = undefined;
    super.disconnectedCallback();
  }

  /** Runs COMPARE_RUN on the A100 model, then on each profile's cost model, one after another in the worker. */
  private async compare(): Promise<void> {
    const ps = this.profiles ?? [];
    const jobs: { device: string; config: RunConfig }[] = this.devices(ps).map((d) => ({
      device: d.device,
      config: { ...COMPARE_RUN, costModel: d.costModel, ...(d.profile ? { profile: d.profile } : {}) },
    }));
    this.client ??= new EngineClient();
    const client = this.client;
    this.rows = [];
    this.runError = undefined;
    try {
      for (const [i, job] of jobs.entries()) {
        this.running = `Running ${i + 1} of ${jobs.length}: ${job.device}`;
        const r = await client.run(job.config);
        const run = r.runs[0];
        const row: DeviceRow =
          run?.ok === true
            ? {
                device: job.device,
                costModel: job.config.costModel,
                meanLatency: run.summary.meanLatency,
                p99Latency: run.summary.p99Latency,
                throughput: run.summary.throughput,
              }
            : {
                device: job.device,
                costModel: job.config.costModel,
                meanLatency: null,
                p99Latency: null,
                throughput: null,
                error: run?.ok === false ? run.error : 'no result',
              };
        this.rows = [...this.rows, row];
      }
    } catch (e) {
      this.runError = e instanceof CancelledError ? 'Cancelled.' : errorText(e);
    } finally {
      this.running = undefined;
    }
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const { valid, invalid } = await loadStoredProfiles();
      const ok: ProfileEntry[] = valid.map(({ record: r, profile }) => ({
        id: r.id,
        title: `${r.title} · ${dateTime(r.createdAt)}`,
        profile,
      }));
      const bad = invalid.map((r) => r.title);
      this.profiles = ok;
      this.invalid = bad;
    } catch (e) {
      this.error = errorText(e);
      this.profiles = [];
    }
  }

  override render(): TemplateResult {
    const ps = this.profiles;
    return html`<h2>Compare devices</h2>
      <p class="muted" data-testid="calibration-status">Profiles made in the Calibrate view (or imported in History), side by side. Times are for Llama-2 70B extrapolated from each device's measurements; the reference is the A100 model.</p>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.invalid.length > 0 ? html`<p class="notice">Not shown (not a valid kvsched.profile/2 or /1): ${this.invalid.join(', ')}</p>` : nothing}
      ${
        !ps
          ? html`<p class="muted">Loading…</p>`
          : ps.length === 0
            ? html`<p class="muted" data-testid="no-profiles">No stored profiles yet: run a calibration in the Calibrate view.</p>`
            : html`${
                ps.some((p) => p.profile.quality.verdict === 'unusable')
                  ? html`<p class="notice" role="alert" data-testid="unusable-warning">⚠ Unusable profiles (their predictions are not trustworthy): ${ps
                      .filter((p) => p.profile.quality.verdict === 'unusable')
                      .map((p) => `${p.title} — ${p.profile.quality.reasons.join('; ')}`)
                      .join(' · ')}</p>`
                  : nothing
              }
              <section class="card"><kv-profile-table .profiles=${ps}></kv-profile-table></section>
              <section class="card"><kv-ratio-bars data-testid="ratio-chart" .data=${ratioBars(ps)}></kv-ratio-bars>
                <p class="muted">Each bar is a profile's time for one term of the round-cost model divided by the A100 model's (<code>reference.ratios</code>), with its 95 % interval: bandwidth-bound work is the per-KV-token term, compute-bound work the per-token and per-prefill-square terms. A "0" marks a term fitted to zero; a legacy (kvsched.profile/1) profile has no intervals. The per-decode-request and per-prefill-request terms (a sequence's own decode-attention cost, a prefill dispatch) are not in the A100 model, so they have no ratio: "n/a", with the profile's own value in its tooltip and in the table above.</p></section>
              ${this.renderCompare(ps)}`
      }
      ${ps ? this.renderCapacity(ps) : nothing}`;
  }

  private capInput(key: keyof CapacityInputs, label: string, err: string | undefined, size: number): TemplateResult {
    const id = `cap-${key}`;
    return html`<div class="in"><label for=${id}>${label}</label>
      <input id=${id} name=${id} type="text" size=${size} spellcheck="false" .value=${this.capInputs[key]}
        ?disabled=${this.capRunning !== undefined} aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? `${id}-err` : nothing}
        @input=${(e: Event) => (this.capInputs = { ...this.capInputs, [key]: (e.target as HTMLInputElement).value })}
        @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && void this.compareCapacity()} />
      ${err ? html`<span class="field-error" id="${id}-err" data-testid="compare-capacity-error" data-field=${key}>${err}</span>` : nothing}</div>`;
  }

  private renderCapacity(ps: ProfileEntry[]): TemplateResult {
    const problems = this.capProblems();
    const bad = Object.values(problems);
    const rows = this.capRows;
    return html`<section class="card" data-testid="compare-capacity">
      <h3>How much load does each device carry under my SLO?</h3>
      <p class="muted">The largest arrival rate at which the policy meets the SLO for the target fraction of requests, on the A100 model and on each profile's cost model (${ps.length} ${ps.length === 1 ? 'profile' : 'profiles'}): the LMSYS stand-in (M = 16,492, seed 1) rescaled in time, bracketing and bisection to 2 %, in the engine worker — as <code>kvsched capacity</code> and the Experiment view's capacity panel.</p>
      <div class="inputs">
        ${this.capInput('slo', 'SLO', problems.slo, 22)}
        ${this.capInput('attainment', 'Target attainment (0–1]', problems.attainment, 6)}
        ${this.capInput('policy', 'Policy', problems.policy, 14)}
        ${this.capInput('requests', 'Requests per probe', problems.requests, 8)}
        <button class="primary" data-testid="compare-capacity-run" ?disabled=${this.capRunning !== undefined || bad.length > 0}
          aria-describedby=${bad.length > 0 ? 'compare-capacity-blocked' : nothing} @click=${() => void this.compareCapacity()}>Find capacity on every device</button>
        ${this.capRunning !== undefined ? html`<button data-testid="compare-capacity-cancel" @click=${() => this.client?.cancel()}>Cancel</button>` : nothing}
      </div>
      ${bad.length > 0 ? html`<p class="blocked" id="compare-capacity-blocked">Disabled until the inputs marked in red are fixed.</p>` : nothing}
      ${this.capRunning !== undefined ? html`<p role="status" data-testid="compare-capacity-running">${this.capRunning}</p>` : nothing}
      ${this.capError ? html`<p class="error" role="alert">${this.capError}</p>` : nothing}
      ${
        rows && rows.length > 0
          ? html`<div class="scroll" tabindex="0" role="region" aria-label="Capacity per device"><table data-testid="compare-capacity-results">
            <thead><tr><th>device</th><th class="num">capacity (req/s)</th><th class="num">bracket met (req/s)</th><th class="num">bracket missed (req/s)</th><th class="num">probes</th><th class="num">relative to the A100</th></tr></thead>
            <tbody>${rows.map((r) => {
              const ref = rows[0]?.result?.capacity ?? 0;
              const x = r.result;
              return html`<tr data-cost-model=${r.costModel}>
                <td>${r.device}</td>
                <td class="num" data-key="capacity" data-value=${x ? String(x.capacity) : ''}>${x ? `${x.hi === null ? '≥ ' : ''}${fixed(x.capacity, 3)}` : '—'}</td>
                <td class="num">${x ? fixed(x.lo, 3) : '—'}</td>
                <td class="num">${x ? (x.hi === null ? '—' : fixed(x.hi, 3)) : '—'}</td>
                <td class="num">${x ? int(x.probes.length) : '—'}</td>
                <td class="num">${x && ref > 0 ? `${x.hi === null ? '≥ ' : ''}${fixed(x.capacity / ref, 3)}×` : '—'}</td>
              </tr>`;
            })}</tbody>
          </table></div>
          <p class="muted small">Capacity 0: the SLO is not met even at 0.001 requests/s on that device (e.g. a device whose single round already exceeds a TTFT bound). ≥: the SLO held at every probe up to the search's limit of 10⁶ requests/s, so the capacity is at least that rate (no probe missed: "—").</p>`
          : nothing
      }
    </section>`;
  }

  private renderCompare(ps: ProfileEntry[]): TemplateResult {
    const rows = this.rows;
    const n = (v: number | null, d: number) => (v === null ? '—' : fixed(v, d));
    return html`<section class="card">
      <h3>The same experiment on each device's cost model</h3>
      <p class="muted">LMSYS stand-in, 1,000 requests, λ = 10/s, M = 16492, seconds mode, MC-SF, seed 1: run in the engine worker once with the A100 model and once with each profile's cost model (${ps.length} ${ps.length === 1 ? 'profile' : 'profiles'}).</p>
      <div class="actions">
        <button class="primary" data-testid="compare-run" ?disabled=${this.running !== undefined} @click=${() => void this.compare()}>Run on every cost model</button>
        ${this.running !== undefined ? html`<button @click=${() => this.client?.cancel()}>Cancel</button><span role="status" data-testid="compare-running">${this.running}</span>` : nothing}
      </div>
      ${this.runError ? html`<p class="error" role="alert" data-testid="compare-error">${this.runError}</p>` : nothing}
      ${
        rows && rows.length > 0
          ? html`<div class="scroll"><table data-testid="compare-results">
            <thead><tr><th>device</th><th class="num">mean latency (s)</th><th class="num">p99 latency (s)</th><th class="num">throughput (tokens/s)</th></tr></thead>
            <tbody>${rows.map(
              (r) => html`<tr data-cost-model=${r.costModel}>
                <td>${r.device}${r.error ? html` <span class="error">(${r.error})</span>` : nothing}</td>
                <td class="num" data-key="meanLatency" data-value=${r.meanLatency ?? ''}>${n(r.meanLatency, 3)}</td>
                <td class="num" data-key="p99Latency" data-value=${r.p99Latency ?? ''}>${n(r.p99Latency, 3)}</td>
                <td class="num" data-key="throughput" data-value=${r.throughput ?? ''}>${n(r.throughput, 1)}</td>
              </tr>`,
            )}</tbody>
          </table></div>`
          : nothing
      }
    </section>`;
  }

  static override styles = [
    base,
    css`
      .actions {
        display: flex;
        gap: 0.75rem;
        align-items: center;
        flex-wrap: wrap;
        margin: 0.5rem 0;
      }
      .scroll {
        overflow-x: auto;
      }
      .field-error {
        color: var(--bad);
        font-size: 0.8rem;
        max-width: 22rem;
      }
      .blocked {
        font-size: 0.9rem;
      }
      .small {
        font-size: 0.85rem;
      }
      [data-testid='compare-capacity-results'] td:first-child {
        min-width: 14rem;
      }
    `,
  ];
}

customElements.define('kv-compare-view', KvCompareView);
