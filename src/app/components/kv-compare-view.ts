/** Compare devices: stored calibration profiles side by side. */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { StoredRecord } from '../../storage/schema.ts';
import { dateTime, errorText } from '../format.ts';
import { getStore } from '../services.ts';
import { base } from '../theme.ts';
import type { Profile } from '../calibration.ts';
import './kv-profile-table.ts';

export class KvCompareView extends LitElement {
  static override properties = { profiles: { state: true }, error: { state: true }, invalid: { state: true } };
  declare profiles: { title: string; profile: Profile }[] | undefined;
  declare invalid: string[];
  declare error: string | undefined;

  constructor() {
    super();
    this.invalid = [];
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const [records, { profileSchema }] = await Promise.all([getStore().then((s) => s.list('profile')), import('../../calibrate/profile.ts')]);
      const ok: { title: string; profile: Profile }[] = [];
      const bad: string[] = [];
      for (const r of records as StoredRecord[]) {
        const p = profileSchema.safeParse(r.data);
        if (p.success) ok.push({ title: `${r.title} · ${dateTime(r.createdAt)}`, profile: p.data });
        else bad.push(r.title);
      }
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
      ${this.invalid.length > 0 ? html`<p class="notice">Not shown (not a valid kvsched.profile/1): ${this.invalid.join(', ')}</p>` : nothing}
      ${!ps
        ? html`<p class="muted">Loading…</p>`
        : ps.length === 0
          ? html`<p class="muted" data-testid="no-profiles">No stored profiles yet: run a calibration in the Calibrate view.</p>`
          : html`<section class="card"><kv-profile-table .profiles=${ps}></kv-profile-table></section>`}`;
  }

  static override styles = [base, css``];
}

customElements.define('kv-compare-view', KvCompareView);
