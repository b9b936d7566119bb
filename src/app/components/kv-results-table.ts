/**
 * Results tables: one row per policy (and per replica when the run had replicas), numeric
 * columns right-aligned in tabular digits; then the token-level table (TBT, max stall,
 * TPOT, latency per token) with the SLO attainment when the run had an SLO.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { SloOutcome } from '../../metrics/slo.ts';
import type { RunSummary } from '../../metrics/summary.ts';
import type { ExperimentResult, PolicyRun } from '../../worker/protocol.ts';
import { fixed, int, runErrorText } from '../format.ts';
import { base } from '../theme.ts';

export interface Column {
  key: keyof RunSummary;
  label: string;
  decimals: number;
  title: string;
}

type OkRun = Extract<PolicyRun, { ok: true }>;

/** A metric's value as stored: a number, NaN or null (not recorded), or absent (a run stored before it existed). */
type Stored = number | null | undefined;

export class KvResultsTable extends LitElement {
  static override properties = { result: { attribute: false }, costModelLabel: { attribute: false } };
  declare result: ExperimentResult | undefined;
  /** The cost model's name as the user knows it (a profile's name rather than its record id). */
  declare costModelLabel: string | undefined;

  /**
   * One precision per column (latencies: ms in seconds mode, 0.1 round in rounds mode),
   * a unit in every header, energy in kJ. In rounds mode a round is one time unit, but
   * its energy is still the cost model's round time at busy power, with no idle time.
   */
  static columns(mode: 'seconds' | 'rounds'): Column[] {
    const unit = mode === 'seconds' ? 's' : 'rounds';
    const d = mode === 'seconds' ? 3 : 1;
    const cols: Column[] = [
      { key: 'meanLatency', label: `mean latency (${unit})`, decimals: d, title: 'completion − arrival, mean' },
      { key: 'p50Latency', label: `p50 latency (${unit})`, decimals: d, title: 'latency, median' },
      { key: 'p90Latency', label: `p90 latency (${unit})`, decimals: d, title: 'latency, 90th percentile' },
      { key: 'p99Latency', label: `p99 latency (${unit})`, decimals: d, title: 'latency, 99th percentile' },
      { key: 'meanTtft', label: `mean TTFT (${unit})`, decimals: d, title: 'time to first token, mean' },
      { key: 'p99Ttft', label: `p99 TTFT (${unit})`, decimals: d, title: 'time to first token, 99th percentile' },
      {
        key: 'throughput',
        label: `throughput (tokens/${mode === 'seconds' ? 's' : 'round'})`,
        decimals: 1,
        title: 'output tokens per time unit over the makespan',
      },
      { key: 'evictions', label: 'evictions (count)', decimals: 0, title: 'evictions (requests restarted)' },
      { key: 'peakKv', label: 'peak KV (tokens)', decimals: 0, title: 'peak KV tokens in use' },
    ];
    cols.push(
      mode === 'seconds'
        ? {
            key: 'energyJoules',
            label: 'energy (kJ)',
            decimals: 1,
            title: '2× A100: 400 W per GPU while a round runs, 60 W idle',
          }
        : {
            key: 'energyJoules',
            label: 'busy energy (kJ)',
            decimals: 1,
            title: 'each round at the cost model’s time and 2× 400 W; no idle energy in rounds mode',
          },
    );
    return cols;
  }

  /** A cell's text (energy is stored in J and shown in kJ). */
  static cellText(c: Column, v: number): string {
    return c.key === 'energyJoules' ? fixed(v / 1000, c.decimals) : c.decimals === 0 ? int(v) : fixed(v, c.decimals);
  }

  /**
   * The token-level columns: in seconds mode in ms (gaps between tokens are tens of ms),
   * in rounds mode in rounds. TBT is pooled over every gap of every request.
   */
  static tokenColumns(mode: 'seconds' | 'rounds'): Column[] {
    const unit = mode === 'seconds' ? 'ms' : 'rounds';
    const d = mode === 'seconds' ? 1 : 2;
    return [
      { key: 'p50Tbt', label: `TBT p50 (${unit})`, decimals: d, title: 'time between tokens, median over all gaps' },
      { key: 'p90Tbt', label: `TBT p90 (${unit})`, decimals: d, title: 'time between tokens, 90th percentile' },
      { key: 'p99Tbt', label: `TBT p99 (${unit})`, decimals: d, title: 'time between tokens, 99th percentile' },
      {
        key: 'maxTbt',
        label: `max stall (${unit})`,
        decimals: d,
        title: 'longest gap between two tokens of a request',
      },
      {
        key: 'meanTpot',
        label: `mean TPOT (${unit})`,
        decimals: d,
        title: 'time per output token, (completion − first token)/(o − 1), over requests with o ≥ 2',
      },
      { key: 'p99Tpot', label: `p99 TPOT (${unit})`, decimals: d, title: 'time per output token, 99th percentile' },
      {
        key: 'meanNormLatency',
        label: `mean latency per token (${unit})`,
        decimals: d,
        title: 'normalised latency: (completion − arrival)/o, mean over requests',
      },
    ];
  }

  /** A token-level cell: NaN or null is "n/a" (not recorded), absent is "—" (stored before token metrics). */
  static tokenCell(c: Column, v: Stored, mode: 'seconds' | 'rounds'): { text: string; na: boolean } {
    if (v === undefined) return { text: '—', na: false };
    if (v === null || Number.isNaN(v)) return { text: 'n/a', na: true };
    return { text: fixed(mode === 'seconds' ? v * 1000 : v, c.decimals), na: false };
  }

  private static sloCells(
    slo: SloOutcome | undefined,
    has: boolean,
    mode: 'seconds' | 'rounds',
  ): TemplateResult | typeof nothing {
    if (!has) return nothing;
    if (!slo) return html`<td class="num">—</td><td>—</td>`;
    const a = slo.attainment;
    const unknown = a === null || Number.isNaN(a);
    const pct = slo.percentiles;
    const bounds =
      pct.length === 0
        ? 'none'
        : pct
            .map((p) => {
              const v =
                p.value === null || Number.isNaN(p.value)
                  ? 'n/a'
                  : mode === 'seconds'
                    ? `${fixed(p.value, 3)} s`
                    : `${fixed(p.value, 2)} rounds`;
              return `${p.term}: ${v} ${p.met ? '✓ met' : '✗ missed'}`;
            })
            .join('; ');
    return html`<td class="num" data-key="attainment" data-value=${unknown ? '' : String(a)}>${unknown ? html`<span class="na">n/a</span>` : `${fixed(a * 100, 1)} %`}</td>
      <td data-key="percentiles" data-met=${String(slo.percentilesMet)}>${bounds}</td>`;
  }

  private tokenTable(r: ExperimentResult): TemplateResult {
    const cols = KvResultsTable.tokenColumns(r.mode);
    const ok = r.runs.filter((x): x is OkRun => x.ok);
    const sloText = ok.find((x) => x.slo)?.slo?.slo;
    const hasSlo = sloText !== undefined;
    let anyNa = false;
    const cells = (s: Partial<RunSummary>): TemplateResult[] =>
      cols.map((c) => {
        const v = s[c.key] as Stored;
        const t = KvResultsTable.tokenCell(c, v, r.mode);
        anyNa ||= t.na;
        return html`<td class="num" data-key=${c.key} data-value=${v === undefined || v === null ? '' : String(v)}>${t.na ? html`<span class="na" title="not recorded">n/a</span>` : t.text}</td>`;
      });
    const rows = r.runs.map((run) => {
      if (!run.ok) return nothing;
      const reps = run.replicas?.summaries ?? [];
      return html`<tr data-policy=${run.policy}><td><code>${run.policy}</code></td>${cells(run.summary)}${KvResultsTable.sloCells(run.slo, hasSlo, r.mode)}</tr>
        ${reps.map((s, k) => html`<tr class="replica" data-replica=${k}><td>replica ${k}</td>${cells(s)}${hasSlo ? html`<td class="num">—</td><td>—</td>` : nothing}</tr>`)}`;
    });
    const naWhy =
      r.engine === 'gpu'
        ? 'n/a: the GPU engine records no per-token times, so time between tokens and the max stall are unknown (TTFT, TPOT and latency per token are exact); an SLO with a tbt term has no attainment there. Run on the CPU engine for them.'
        : 'n/a: not recorded — time between tokens is kept for runs of up to 200,000 requests.';
    return html`<h4 class="sub">Token-level latency${hasSlo ? html` and SLO <code>${sloText}</code>` : nothing}</h4>
      <div class="scroll" tabindex="0" role="region" aria-label="Token-level metrics per policy (scrolls sideways when narrow)"><table data-testid="token-results">
      <thead><tr><th>policy</th>${cols.map((c) => html`<th class="num" title=${c.title}>${c.label}</th>`)}${
        hasSlo
          ? html`<th class="num" title="fraction of requests meeting every per-request bound">SLO attainment (%)</th><th title="percentile terms: the run's value (s or rounds) against the bound">SLO percentile bounds</th>`
          : nothing
      }</tr></thead>
      <tbody>${rows}</tbody></table></div>
      ${anyNa || (hasSlo && ok.some((x) => x.slo && Number.isNaN(x.slo.attainment))) ? html`<p class="muted note" data-testid="token-na-note">${naWhy}</p>` : nothing}
      ${r.runs.some((x) => x.ok && x.replicas) ? html`<p class="muted note">Each policy's row is all replicas together; the replica rows are each replica alone (its requests as routed).</p>` : nothing}`;
  }

  override render(): TemplateResult {
    const r = this.result;
    if (!r) return html``;
    const cols = KvResultsTable.columns(r.mode);
    const ok = r.runs.filter((x) => x.ok);
    const best = ok.length > 1 ? Math.min(...ok.map((x) => x.summary.meanLatency)) : Number.NaN;
    return html`<div class="scroll" tabindex="0" role="region" aria-label="Results per policy (scrolls sideways when narrow)"><table data-testid="results">
      <thead>
        <tr><th>policy</th>${cols.map((c) => html`<th class="num" title=${c.title}>${c.label}</th>`)}</tr>
      </thead>
      <tbody>
        ${r.runs.map((run) =>
          run.ok
            ? html`<tr data-policy=${run.policy}>
                <td><code>${run.policy}</code></td>
                ${cols.map((c) => {
                  const v = run.summary[c.key];
                  const shown = KvResultsTable.cellText(c, v);
                  const isBest = c.key === 'meanLatency' && v === best;
                  return html`<td class="num ${isBest ? 'best' : ''}" data-key=${c.key} data-value=${String(v)}>${shown}</td>`;
                })}
              </tr>
              ${(run.replicas?.summaries ?? []).map(
                (s, k) => html`<tr class="replica" data-replica=${k}><td>replica ${k} (${int(s.requests)} req)</td>
                  ${cols.map((c) => html`<td class="num" data-key=${c.key} data-value=${String(s[c.key])}>${KvResultsTable.cellText(c, s[c.key])}</td>`)}</tr>`,
              )}`
            : html`<tr data-policy=${run.policy} class="failed"><td><code>${run.policy}</code></td><td colspan=${cols.length} class="err" data-testid="policy-error">${runErrorText(run.error, r.mode)}</td></tr>`,
        )}
      </tbody>
    </table></div>
    ${r.runs.some((x) => x.ok && x.replicas) ? html`<p class="muted note" data-testid="replica-note">${(r.runs.find((x) => x.ok && x.replicas) as OkRun).replicas?.summaries.length} replicas per policy behind the ${(r.runs.find((x) => x.ok && x.replicas) as OkRun).replicas?.router} router, each with M = ${int(r.memory)} tokens: a policy's row is all replicas together (makespan and peak KV: the largest replica's), then each replica alone.</p>` : nothing}
    <p class="muted foot">${r.description}; M = ${int(r.memory)} tokens; cost model: ${this.costModelLabel ?? r.costModel}; engine wall time ${fixed(r.wallMs / 1000, 2)} s.${r.mode === 'rounds' ? ' Rounds mode: energy counts each round at the cost model’s duration and that cost model’s busy power (2× 400 W for the A100, a profile’s own for a profile); rounds have no idle time, so none is counted.' : ''}</p>
    ${this.tokenTable(r)}`;
  }

  static override styles = [
    base,
    css`
      .scroll {
        overflow-x: auto;
      }
      table {
        width: 100%;
      }
      th,
      th.num {
        white-space: normal;
        vertical-align: bottom;
      }
      th,
      td {
        padding: 0.3rem 0.5rem;
      }
      td:first-child {
        white-space: nowrap;
      }
      td.best {
        font-weight: 700;
        color: var(--ok);
      }
      .err {
        color: var(--bad);
      }
      .foot,
      .note {
        font-size: 0.85rem;
      }
      tr.replica td {
        color: var(--muted);
        font-size: 0.88rem;
      }
      tr.replica td:first-child {
        padding-left: 1.4rem;
      }
      .na {
        color: var(--muted);
        font-style: italic;
      }
      h4.sub {
        margin: 1rem 0 0.3rem;
      }
    `,
  ];
}

customElements.define('kv-results-table', KvResultsTable);
