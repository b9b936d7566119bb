/**
 * Policy line-up editor: one row per policy, its parameters as inputs. Specs are
 * validated by the policy registry itself (createPolicy), so the UI holds no policy
 * rules of its own. Emits `policies-change` with `detail: string[]`.
 */
import { LitElement, css, html, type TemplateResult } from 'lit';
import { createPolicy, PAPER_POLICIES, POLICIES, SERVING_POLICIES } from '../../policies/registry.ts';
import { errorText } from '../format.ts';
import { initialSpec, paramFields, policyInfo, specWithParam } from '../policy-form.ts';
import { base } from '../theme.ts';

function specError(spec: string): string | null {
  try {
    createPolicy(spec);
    return null;
  } catch (e) {
    return errorText(e);
  }
}

export class KvPolicyList extends LitElement {
  static override properties = { policies: { attribute: false }, disabled: { type: Boolean } };
  declare policies: string[];
  declare disabled: boolean;

  constructor() {
    super();
    this.policies = [];
    this.disabled = false;
  }

  private emit(next: string[]): void {
    this.dispatchEvent(new CustomEvent<string[]>('policies-change', { detail: next, bubbles: true, composed: true }));
  }

  private setRow(i: number, spec: string): void {
    const next = [...this.policies];
    next[i] = spec.replace(/:+$/, '');
    this.emit(next);
  }

  private row(spec: string, i: number): TemplateResult {
    const [name = '', ...args] = spec.split(':');
    const info = policyInfo(name);
    const fields = paramFields(name);
    const err = specError(spec);
    return html`<li data-policy=${spec}>
      <select aria-label="policy ${i + 1}" .value=${name} ?disabled=${this.disabled}
        @change=${(e: Event) => this.setRow(i, initialSpec((e.target as HTMLSelectElement).value))}>
        ${POLICIES.map((p) => html`<option value=${p.name} ?selected=${p.name === name}>${p.name}</option>`)}
      </select>
      ${fields.map(
        (
          f,
          j,
        ) => html`<label class="param" title=${f.optional ? `optional; default ${f.placeholder}` : 'required'}>${f.label}
          <input type="text" name=${`param-${i}-${f.name}`} inputmode=${f.inputMode} size="6" .value=${args[j] ?? ''}
            placeholder=${f.placeholder} ?disabled=${this.disabled}
            @change=${(e: Event) => this.setRow(i, specWithParam(spec, j, (e.target as HTMLInputElement).value))} /></label>`,
      )}
      <button class="remove" title="Remove" aria-label="remove ${spec}" ?disabled=${this.disabled || this.policies.length <= 1}
        @click=${() => this.emit(this.policies.filter((_, k) => k !== i))}>✕</button>
      ${err ? html`<span class="err" data-testid="policy-error">${err}</span>` : html`<span class="muted summary">${info?.summary ?? ''}</span>`}
    </li>`;
  }

  override render(): TemplateResult {
    return html`<ol>${this.policies.map((s, i) => this.row(s, i))}</ol>
      <div class="actions">
        <button ?disabled=${this.disabled} @click=${() => this.emit([...this.policies, 'mcsf'])}>Add policy</button>
        <button ?disabled=${this.disabled} data-testid="paper-lineup" @click=${() => this.emit([...PAPER_POLICIES])}>Paper line-up</button>
        <button ?disabled=${this.disabled} data-testid="serving-lineup"
          title="MC-SF, MC-FCFS, vLLM, Sarathi-Serve, Orca and MC-SF with a token budget"
          @click=${() => this.emit([...SERVING_POLICIES])}>Serving line-up</button>
      </div>`;
  }

  /** Whether every row is a valid spec. */
  static allValid(specs: readonly string[]): boolean {
    return specs.length > 0 && specs.every((s) => specError(s) === null);
  }

  static override styles = [
    base,
    css`
      ol {
        margin: 0;
        padding-left: 1.4rem;
      }
      li {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        flex-wrap: wrap;
        padding: 0.15rem 0;
      }
      .param {
        font-size: 0.85rem;
        color: var(--muted);
      }
      .param input {
        width: 4.5rem;
        text-align: right;
        font-variant-numeric: tabular-nums;
      }
      .remove {
        padding: 0.1rem 0.45rem;
      }
      .summary {
        font-size: 0.8rem;
      }
      .err {
        color: var(--bad);
        font-size: 0.85rem;
      }
      .actions {
        margin-top: 0.5rem;
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
      }
    `,
  ];
}

customElements.define('kv-policy-list', KvPolicyList);
