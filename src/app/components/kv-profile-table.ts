/** Calibration profiles side by side: one column per profile, headline numbers as rows. */
import { LitElement, css, html, type TemplateResult } from 'lit';
import { profileFacts, type Profile } from '../calibration.ts';
import { fixed } from '../format.ts';
import { base } from '../theme.ts';

function cell(v: number | string): string {
  if (typeof v === 'string') return v;
  const a = Math.abs(v);
  return fixed(v, a === 0 ? 0 : a >= 100 ? 1 : a >= 1 ? 3 : a >= 0.001 ? 5 : 8);
}

export class KvProfileTable extends LitElement {
  static override properties = { profiles: { attribute: false } };
  declare profiles: { title: string; profile: Profile }[];

  constructor() {
    super();
    this.profiles = [];
  }

  override render(): TemplateResult {
    const ps = this.profiles;
    const facts = ps.map((p) => profileFacts(p.profile));
    const first = facts[0] ?? [];
    return html`<div class="scroll"><table data-testid="profiles">
      <thead><tr><th></th><th></th>${ps.map((p) => html`<th class="num">${p.title}</th>`)}</tr></thead>
      <tbody>
        ${first.map(
          ([group, label], i) => html`<tr>
            <td class="muted">${group}</td><td>${label}</td>
            ${facts.map((f) => {
              const v = f[i]?.[2] ?? '—';
              return html`<td class=${typeof v === 'number' ? 'num' : ''}>${cell(v)}</td>`;
            })}
          </tr>`,
        )}
      </tbody>
    </table></div>`;
  }

  static override styles = [base, css`.scroll { overflow-x: auto; } td:nth-child(2) { white-space: nowrap; }`];
}

customElements.define('kv-profile-table', KvProfileTable);
