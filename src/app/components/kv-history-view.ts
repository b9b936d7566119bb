/**
 * History: every stored run and profile; open, delete, export one or all as a bundle,
 * import a bundle or a bare profile (validated whole, checked against the free storage,
 * conflicts never overwrite; see src/storage/import.ts and docs/storage.md).
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { StoredRecord } from '../../storage/schema.ts';
import { configToParams, type ExperimentConfig } from '../config.ts';
import { dateTime, errorText, fixed, int } from '../format.ts';
import { isRunData, runDataProblem } from '../records.ts';
import { navigate } from '../route.ts';
import type { ComparedRun } from './kv-run-compare.ts';
import { getStore } from '../services.ts';
import { base } from '../theme.ts';
import type { Persistence } from '../../storage/import.ts';
import { profileSummaryLine, verdictOfData } from '../calibration.ts';

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function plural(n: number, one: string, many: string): string {
  return `${int(n)} ${n === 1 ? one : many}`;
}

function stamp(): string {
  return dateTime(Date.now())
    .replace(/[-: ]/g, '')
    .replace(/^(\d{8})/, '$1-');
}

export class KvHistoryView extends LitElement {
  static override properties = {
    records: { state: true },
    error: { state: true },
    readError: { state: true },
    status: { state: true },
    confirmClear: { state: true },
    persistence: { state: true },
    selected: { state: true },
    comparing: { state: true },
    profileNames: { state: true },
  };
  /** Experiment runs ticked for comparison (record ids). */
  declare selected: ReadonlySet<string>;
  /** The runs shown side by side (after Compare). */
  declare comparing: ComparedRun[] | undefined;
  /** Calibration profiles' titles by cost-model name (`profile:<id>`). */
  declare profileNames: ReadonlyMap<string, string>;
  declare records: StoredRecord[] | undefined;
  /** The last action's error (import, delete, open): kept until the next action. */
  declare error: string | undefined;
  /** Reading the list failed (shown beside `error`, never in its place). */
  declare readError: string | undefined;
  declare persistence: Persistence | undefined;
  declare status: string | undefined;
  declare confirmClear: boolean;

  constructor() {
    super();
    this.confirmClear = false;
    this.selected = new Set();
    this.profileNames = new Map();
  }

  private toggle(id: string, on: boolean): void {
    const next = new Set(this.selected);
    if (on) next.add(id);
    else next.delete(id);
    this.selected = next;
  }

  /** Shows the ticked runs side by side (in list order). */
  private async compare(): Promise<void> {
    const rs = (this.records ?? []).filter((r) => this.selected.has(r.id));
    const runs: ComparedRun[] = [];
    for (const r of rs)
      if (isRunData(r.data) && r.data.type === 'experiment') runs.push({ id: r.id, title: r.title, data: r.data });
    if (runs.length < 2) return;
    await import('./kv-run-compare.ts');
    this.comparing = runs;
    await this.updateComplete;
    this.renderRoot.querySelector('kv-run-compare')?.scrollIntoView({ block: 'start' });
  }

  private costModelLabel(name: string): string {
    if (name === 'a100-llama2-70b-tp2') return 'A100 reference';
    return this.profileNames.get(name) ?? name;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.reload();
    void import('../../storage/import.ts').then((m) => m.requestPersistence()).then((p) => (this.persistence = p));
  }

  private async reload(): Promise<void> {
    try {
      this.records = await (await getStore()).list();
      this.readError = undefined;
      this.profileNames = new Map(
        this.records.filter((r) => r.kind === 'profile').map((r) => [`profile:${r.id}`, `profile “${r.title}”`]),
      );
      const ids = new Set(this.records.map((r) => r.id));
      this.selected = new Set([...this.selected].filter((id) => ids.has(id)));
    } catch (e) {
      this.readError = `Could not read the stored records: ${errorText(e)}`;
      this.records = [];
    }
  }

  private async exportRecords(records: StoredRecord[], name: string): Promise<void> {
    const { makeBundle } = await import('../../storage/bundle.ts');
    download(name, JSON.stringify(makeBundle(records), null, 1));
    this.status = `Exported ${records.length} ${records.length === 1 ? 'record' : 'records'} to ${name}.`;
  }

  private async importFile(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    this.error = undefined;
    this.status = undefined;
    try {
      const { parseImportFile, importParsed, importSummary, importTooLarge, ImportError } =
        await import('../../storage/import.ts');
      const tooLarge = importTooLarge(file.size, file.name);
      if (tooLarge !== null) {
        this.error = `Nothing was imported. ${tooLarge}.`;
        return;
      }
      const parsed = parseImportFile(await file.text(), file.name);
      if (!parsed.ok) {
        this.error = `Nothing was imported. ${parsed.error}`;
        return;
      }
      try {
        this.status = importSummary(await importParsed(parsed, await getStore()), file.name);
      } catch (err) {
        this.error = err instanceof ImportError ? err.message : `Nothing was imported. ${errorText(err)}`;
      }
    } catch (err) {
      this.error = `Nothing was imported. ${errorText(err)}`;
    }
    await this.reload();
  }

  private async deleteRecord(r: StoredRecord): Promise<void> {
    try {
      await (await getStore()).delete(r.id);
      this.status = `Deleted “${r.title}”.`;
    } catch (e) {
      this.error = `Could not delete: ${errorText(e)}`;
    }
    await this.reload();
  }

  /** Deletes the records listed when the user confirmed: one saved since (another tab) stays. */
  private async clearAll(listed: readonly StoredRecord[]): Promise<void> {
    this.confirmClear = false;
    this.error = undefined;
    try {
      await (await getStore()).deleteMany(listed.map((r) => r.id));
      const n = listed.length;
      this.status = `Deleted the ${n} listed ${n === 1 ? 'record' : 'records'}.`;
    } catch (e) {
      this.error = `Could not delete: ${errorText(e)}`;
    }
    await this.reload();
  }

  private open(r: StoredRecord): void {
    const problem = runDataProblem(r.data);
    if (problem !== null || !isRunData(r.data)) {
      this.error = `Cannot open “${r.title}”: its stored data is not a valid run (${problem ?? 'unknown shape'}).`;
      return;
    }
    const p = configToParams(r.data.config as ExperimentConfig);
    p.set('run', r.id);
    navigate('experiment', p);
  }

  private details(r: StoredRecord): TemplateResult {
    const d = r.data;
    if (r.kind === 'run' && isRunData(d)) {
      if (d.type === 'experiment') {
        const ok = d.result.runs.filter((x) => x.ok);
        const unit = d.result.mode === 'seconds' ? 's' : 'rounds';
        const best = ok.reduce<(typeof ok)[number] | undefined>(
          (b, x) => (!b || x.summary.meanLatency < b.summary.meanLatency ? x : b),
          undefined,
        );
        return html`${int(d.result.requests)} requests, ${plural(d.result.runs.length, 'policy', 'policies')}${best ? html`; best mean latency <code>${best.policy}</code> <span class="num">${fixed(best.summary.meanLatency, 3)}</span> ${unit}` : nothing}`;
      }
      if (d.type === 'capacity')
        return html`capacity under an SLO, ${plural(d.result.policies.length, 'policy', 'policies')}: ${d.result.policies
          .map((p) => `${p.policy} ${fixed(p.capacity, 3)} req/s`)
          .join(', ')}`;
      return html`rate sweep over λ = ${d.result.rates.join(', ')}, ${plural(d.result.series.length, 'policy', 'policies')}`;
    }
    if (r.kind === 'profile')
      return html`<span data-verdict=${verdictOfData(d)?.verdict ?? 'invalid'}>${profileSummaryLine(d)}</span>`;
    return html`<span class="muted">${r.kind} record</span>`;
  }

  override render(): TemplateResult {
    const rs = this.records;
    return html`<h2>History</h2>
      <div class="toolbar">
        <button data-testid="export-all" ?disabled=${!rs || rs.length === 0} @click=${() => rs && void this.exportRecords(rs, `kvsched-bundle-${stamp()}.json`)}>Export all</button>
        <label class="file">Import bundle or profile <input type="file" data-testid="import" accept=".json,application/json" @change=${(e: Event) => void this.importFile(e)} /></label>
        <span class="spacer"></span>
        ${
          this.confirmClear
            ? html`<button class="danger" data-testid="confirm-clear" @click=${() => rs && void this.clearAll(rs)}>Really delete all ${rs?.length ?? 0} records</button>
              <button @click=${() => (this.confirmClear = false)}>Keep them</button>`
            : html`<button data-testid="clear" ?disabled=${!rs || rs.length === 0} @click=${() => (this.confirmClear = true)}>Delete all…</button>`
        }
      </div>
      ${this.compareBar()}
      ${this.error ? html`<p class="error" role="alert" data-testid="history-error">${this.error}</p>` : nothing}
      ${this.readError ? html`<p class="error" role="alert" data-testid="history-read-error">${this.readError}</p>` : nothing}
      ${this.status ? html`<p class="ok" role="status" data-testid="history-status">${this.status}</p>` : nothing}
      ${
        !rs
          ? html`<p class="muted">Loading…</p>`
          : rs.length === 0
            ? html`<p class="muted" data-testid="history-empty">Nothing stored yet. Runs from the Experiment view and calibration profiles appear here.</p>`
            : html`<table data-testid="history">
              <thead><tr><th><span class="sr-only">compare</span></th><th>saved</th><th>kind</th><th>title</th><th>details</th><th><span class="sr-only">actions</span></th></tr></thead>
              <tbody>
                ${rs.map(
                  (r) => html`<tr data-id=${r.id} data-kind=${r.kind} class=${this.selected.has(r.id) ? 'picked' : ''}>
                    <td>${
                      r.kind === 'run' && isRunData(r.data) && r.data.type === 'experiment'
                        ? html`<input type="checkbox" data-testid="compare-pick" aria-label="compare “${r.title}”" .checked=${this.selected.has(r.id)}
                          @change=${(e: Event) => this.toggle(r.id, (e.target as HTMLInputElement).checked)} />`
                        : nothing
                    }</td>
                    <td class="num">${dateTime(r.createdAt)}</td>
                    <td>${r.kind}</td>
                    <td class="title">${r.title}</td>
                    <td>${this.details(r)}</td>
                    <td class="row-actions">
                      ${r.kind === 'run' ? html`<button @click=${() => this.open(r)}>Open</button>` : nothing}
                      <button @click=${() => void this.exportRecords([r], `kvsched-${r.id}.json`)}>Export</button>
                      <button @click=${() => void this.deleteRecord(r)} aria-label="delete ${r.title}">Delete</button>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>
            <p class="muted">${rs.length} ${rs.length === 1 ? 'record' : 'records'} in this browser (IndexedDB).</p>`
      }
      ${this.persistenceNote()}
      ${this.comparing ? html`<kv-run-compare .runs=${this.comparing} .costModelLabel=${(n: string) => this.costModelLabel(n)}></kv-run-compare>` : nothing}`;
  }

  private compareBar(): TemplateResult | typeof nothing {
    const rs = this.records ?? [];
    const runs = rs.filter((r) => r.kind === 'run' && isRunData(r.data) && r.data.type === 'experiment').length;
    if (runs < 2) return nothing;
    const n = this.selected.size;
    return html`<div class="compare-bar">
      <button data-testid="compare-runs" ?disabled=${n < 2} aria-describedby="compare-why" @click=${() => void this.compare()}>Compare selected (${n})</button>
      <span class="muted" id="compare-why">${n < 2 ? `Tick two or more experiment runs to see them side by side (${n} ticked).` : 'One table, overlaid charts, configuration differences highlighted.'}</span>
      ${this.comparing ? html`<button @click=${() => (this.comparing = undefined)}>Close comparison</button>` : nothing}
    </div>`;
  }

  private persistenceNote(): TemplateResult {
    const p = this.persistence;
    const text =
      p === undefined
        ? 'Storage: checking…'
        : p === 'persistent'
          ? 'Storage: persistent — the browser will not clear these records to free space.'
          : p === 'best-effort'
            ? 'Storage: best effort — the browser did not grant persistent storage and may clear these records when the disk is short of space. Export what you want to keep.'
            : 'Storage: this browser cannot make storage persistent; export what you want to keep.';
    return html`<p class="muted" data-testid="history-persistence" data-persistence=${p ?? 'unknown'}>${text}</p>`;
  }

  static override styles = [
    base,
    css`
      .toolbar {
        display: flex;
        gap: 0.6rem;
        align-items: center;
        flex-wrap: wrap;
        margin-bottom: 1rem;
      }
      .spacer {
        flex: 1;
      }
      .file {
        font-size: 0.92rem;
      }
      button.danger {
        background: var(--bad);
        border-color: var(--bad);
        color: #fff;
      }
      table {
        width: 100%;
      }
      .title {
        max-width: 28rem;
        /* A long title without spaces wraps inside its column instead of widening the table. */
        overflow-wrap: anywhere;
      }
      .row-actions {
        white-space: nowrap;
        text-align: right;
      }
      .compare-bar {
        display: flex;
        gap: 0.6rem;
        align-items: center;
        flex-wrap: wrap;
        margin-bottom: 0.75rem;
      }
      tr.picked {
        background: var(--hover);
      }
      .sr-only {
        position: absolute;
        width: 1px;
        height: 1px;
        overflow: hidden;
        clip: rect(0 0 0 0);
        white-space: nowrap;
      }
      kv-run-compare {
        margin-top: 1rem;
      }
      .row-actions button {
        padding: 0.2rem 0.6rem;
        font-size: 0.85rem;
      }
    `,
  ];
}

customElements.define('kv-history-view', KvHistoryView);
