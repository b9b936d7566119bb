/** Progress of a running experiment with a Cancel button (emits `cancel`). */
import { LitElement, css, html, type TemplateResult } from 'lit';
import type { ProgressInfo } from '../../worker/protocol.ts';
import { int } from '../format.ts';
import { base } from '../theme.ts';

export class KvRunProgress extends LitElement {
  static override properties = { progress: { attribute: false }, label: { type: String }, gpu: { type: Boolean } };
  /** GPU engine: every policy runs in one job (one dispatch per round for all), so there is no per-policy step to count. */
  declare gpu: boolean;
  declare progress: ProgressInfo | undefined;
  declare label: string;

  constructor() {
    super();
    this.label = 'Running';
    this.gpu = false;
  }

  override render(): TemplateResult {
    const p = this.progress;
    const pct = p ? Math.round(p.fraction * 100) : 0;
    return html`<div class="row" role="status" aria-live="polite">
      <progress max="100" .value=${pct} aria-label="progress"></progress>
      <span class="num pct">${pct} %</span>
      <span class="what" data-testid="progress-text">${
        !p
          ? html`${this.label}: preparing the workload…`
          : this.gpu
            ? html`${this.label}: ${p.runs === 1 ? 'one policy' : `all ${p.runs} policies together`} as one GPU job — ${int(p.completed * p.runs)} / ${int(p.requests * p.runs)} requests done across them`
            : html`${this.label}: <code>${p.policy}</code> — ${int(p.completed)} / ${int(p.requests)} requests done (run ${p.run} of ${p.runs})`
      }</span>
      <button data-testid="cancel" @click=${() => this.dispatchEvent(new CustomEvent('cancel', { bubbles: true, composed: true }))}>Cancel</button>
    </div>`;
  }

  static override styles = [
    base,
    css`
      .row {
        display: flex;
        align-items: center;
        gap: 0.75rem;
        flex-wrap: wrap;
      }
      progress {
        width: 16rem;
        height: 0.9rem;
        accent-color: var(--accent);
      }
      .pct {
        min-width: 3.2rem;
      }
    `,
  ];
}

customElements.define('kv-run-progress', KvRunProgress);
