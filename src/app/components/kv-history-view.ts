/**
 * History: every stored run and profile; open, delete, export one or all as a bundle,
 * import a bundle (validated whole before anything is written).
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { StoredRecord } from '../../storage/schema.ts';
import { configToParams, type ExperimentConfig } from '../config.ts';
import { dateTime, errorText, fixed, int } from '../format.ts';
import { isRunData } from '../records.ts';
import { navigate } from '../route.ts';
import { getStore } from '../services.ts';
import { base } from '../theme.ts';

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
  return dateTime(Date.now()).replace(/[-: ]/g, '').replace(/^(\d{8})/, '$1-');
}

export class KvHistoryView extends LitElement {
  static override properties = {
    records: { state: true },
    error: { state: true },
    status: { state: true },
    confirmClear: { state: true },
  };
  declare records: StoredRecord[] | undefined;
  declare error: string | undefined;
  declare status: string | undefined;
  declare confirmClear: boolean;

  constructor() {
    super();
    this.confirmClear = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.reload();
  }

  private async reload(): Promise<void> {
    try {
      this.records = await (await getStore()).list();
    } catch (e) {
      this.error = `Could not read the stored records: ${errorText(e)}`;
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
      const { parseBundle } = await import('../../storage/bundle.ts');
      const parsed = parseBundle(await file.text(), file.name);
      if (!parsed.ok) {
        this.error = `Nothing was imported. ${parsed.error}`;
        return;
      }
      await (await getStore()).putAll(parsed.bundle.records);
      const n = parsed.bundle.records.length;
      this.status = `Imported ${n} ${n === 1 ? 'record' : 'records'} from ${file.name}.`;
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

  private async clearAll(): Promise<void> {
    this.confirmClear = false;
    try {
      await (await getStore()).clear();
      this.status = 'Deleted all records.';
    } catch (e) {
      this.error = `Could not delete: ${errorText(e)}`;
    }
    await this.reload();
  }

  private open(r: StoredRecord): void {
    if (!isRunData(r.data)) return;
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
        const best = ok.reduce<(typeof ok)[number] | undefined>((b, x) => (!b || x.summary.meanLatency < b.summary.meanLatency ? x : b), undefined);
        return html`${int(d.result.requests)} requests, ${plural(d.result.runs.length, 'policy', 'policies')}${best ? html`; best mean latency <code>${best.policy}</code> <span class="num">${fixed(best.summary.meanLatency, 3)}</span> ${unit}` : nothing}`;
      }
      return html`rate sweep over λ = ${d.result.rates.join(', ')}, ${plural(d.result.series.length, 'policy', 'policies')}`;
    }
    if (r.kind === 'profile') return html`calibration profile`;
    return html`<span class="muted">${r.kind} record</span>`;
  }

  override render(): TemplateResult {
    const rs = this.records;
    return html`<h2>History</h2>
      <div class="toolbar">
        <button data-testid="export-all" ?disabled=${!rs || rs.length === 0} @click=${() => rs && void this.exportRecords(rs, `kvsched-bundle-${stamp()}.json`)}>Export all</button>
        <label class="file">Import bundle <input type="file" data-testid="import" accept=".json,application/json" @change=${(e: Event) => void this.importFile(e)} /></label>
        <span class="spacer"></span>
        ${this.confirmClear
          ? html`<button class="danger" data-testid="confirm-clear" @click=${() => void this.clearAll()}>Really delete all ${rs?.length ?? 0} records</button>
              <button @click=${() => (this.confirmClear = false)}>Keep them</button>`
          : html`<button data-testid="clear" ?disabled=${!rs || rs.length === 0} @click=${() => (this.confirmClear = true)}>Delete all…</button>`}
      </div>
      ${this.error ? html`<p class="error" role="alert" data-testid="history-error">${this.error}</p>` : nothing}
      ${this.status ? html`<p class="ok" role="status" data-testid="history-status">${this.status}</p>` : nothing}
      ${!rs
        ? html`<p class="muted">Loading…</p>`
        : rs.length === 0
          ? html`<p class="muted" data-testid="history-empty">Nothing stored yet. Runs from the Experiment view and calibration profiles appear here.</p>`
          : html`<table data-testid="history">
              <thead><tr><th>saved</th><th>kind</th><th>title</th><th>details</th><th></th></tr></thead>
              <tbody>
                ${rs.map(
                  (r) => html`<tr data-id=${r.id} data-kind=${r.kind}>
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
            <p class="muted">${rs.length} ${rs.length === 1 ? 'record' : 'records'} in this browser (IndexedDB).</p>`}`;
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
      }
      .row-actions {
        white-space: nowrap;
        text-align: right;
      }
      .row-actions button {
        padding: 0.2rem 0.6rem;
        font-size: 0.85rem;
      }
    `,
  ];
}

customElements.define('kv-history-view', KvHistoryView);
