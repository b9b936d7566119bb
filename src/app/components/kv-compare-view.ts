/**
 * Compare devices: stored calibration profiles side by side, their per-term speed
 * relative to the A100 model, and one fixed experiment run in the engine worker on
 * the A100 model and on each profile's cost model.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { DEFAULT_COST_MODEL } from '../../cost/registry.ts';
import { CancelledError, EngineClient } from '../../worker/client.ts';
import type { RunConfig } from '../../worker/protocol.ts';
import { loadStoredProfiles, ratioBars, type Profile } from '../calibration.ts';
import { dateTime, errorText, fixed } from '../format.ts';
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

export class KvCompareView extends LitElement {
  static override properties = {
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
  private client: EngineClient | undefined;

  constructor() {
    super();
    this.invalid = [];
  }

  override disconnectedCallback(): void {
    this.client?.dispose();
    this.client = undefined;
    super.disconnectedCallback();
  }

  /** Runs COMPARE_RUN on the A100 model, then on each profile's cost model, one after another in the worker. */
  private async compare(): Promise<void> {
    const ps = this.profiles ?? [];
    const jobs: { device: string; config: RunConfig }[] = [
      { device: 'A100 reference (Llama-2 70B, 2×A100)', config: { ...COMPARE_RUN, costModel: DEFAULT_COST_MODEL } },
      ...ps.map((p) => ({
        device:
          p.profile.quality.verdict === 'good'
            ? p.title
            : `${p.title} [${p.profile.quality.verdict}${p.profile.quality.verdict === 'unusable' ? ': predictions not trustworthy' : ''}]`,
        config: { ...COMPARE_RUN, costModel: `profile:${p.id}`, profile: p.profile },
      })),
    ];
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
                <p class="muted">Each bar is a profile's time for one term of the round-cost model divided by the A100 model's (<code>reference.ratios</code>), with its 95 % interval: bandwidth-bound work is the per-KV-token term, compute-bound work the per-token and per-prefill-square terms. A "0" marks a term fitted to zero; a legacy (kvsched.profile/1) profile has no intervals.</p></section>
              ${this.renderCompare(ps)}`
      }`;
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
    `,
  ];
}

customElements.define('kv-compare-view', KvCompareView);
