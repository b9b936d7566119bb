/**
 * The experiment configuration form. Emits `config-change` (detail: ExperimentConfig)
 * and `trace-change` (detail: { name, text }) when a trace file is chosen.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { listCostModels } from '../../cost/registry.ts';
import { LMSYS_MEMORY } from '../../workload/index.ts';
import { fileTooLarge } from '../../model/limits.ts';
import { ROUTERS, type RouterKind } from '../../engine/replicas.ts';
import {
  applyPreset,
  checkNumber,
  checkSloText,
  isLmsys,
  normalSlo,
  NUMBER_RULES,
  PRESET_LABELS,
  PRESETS,
  type ExperimentConfig,
  type NumberField,
  type NumberRule,
  type Preset,
} from '../config.ts';
import { base } from '../theme.ts';
import { profilePowerHint } from '../calibration.ts';
import './kv-policy-list.ts';

export interface TraceFile {
  name: string;
  text: string;
}

export class KvConfigForm extends LitElement {
  static override properties = {
    config: { attribute: false },
    disabled: { type: Boolean },
    traceLoaded: { attribute: false },
    profiles: { attribute: false },
    gpu: { attribute: false },
    gpuRefusal: { attribute: false },
    errors: { state: true },
  };
  /** The GPU engine's refusal of this configuration (from the engine layer), shown beside the inputs. */
  declare gpuRefusal: string | undefined;
  /** Messages of fields whose typed value is invalid (by input name); announced with `validity-change`. */
  declare errors: Record<string, string>;
  /** Whether the GPU engine can run here (WebGPU detected), and why not. */
  declare gpu: { available: boolean; reason: string } | undefined;
  declare config: ExperimentConfig;
  declare disabled: boolean;
  /** Name of the trace file in memory, if any. */
  declare traceLoaded: string | null;
  /** Cost models from saved calibration profiles (`name`, `label`, the stored record's `data`). */
  declare profiles: { name: string; label: string; data?: unknown }[];

  constructor() {
    super();
    this.disabled = false;
    this.traceLoaded = null;
    this.profiles = [];
    this.errors = {};
  }

  private set(patch: Partial<ExperimentConfig>): void {
    const next = { ...this.config, ...patch };
    this.dispatchEvent(
      new CustomEvent<ExperimentConfig>('config-change', { detail: next, bubbles: true, composed: true }),
    );
  }

  /**
   * A validated number field: what is typed is checked against its rule (config.ts) on
   * every keystroke; a bad value shows its message beside the field and is never
   * committed, so the configuration (and the run) is exactly what the form shows once
   * every message is gone. `nullable`: empty means the default (`placeholder`).
   */
  private numberInput(
    label: string,
    field: NumberField,
    value: number | null,
    commit: (v: number | null) => void,
    opts: { step?: string; placeholder?: string; name: string; nullable?: boolean },
  ): TemplateResult {
    const rule: NumberRule = NUMBER_RULES[field];
    const err = this.errors[opts.name];
    const id = `f-${opts.name}`;
    const check = (e: Event, commitIt: boolean): void => {
      const t = (e.target as HTMLInputElement).value.trim();
      if (t === '' && opts.nullable) {
        this.setError(opts.name, null);
        if (commitIt) commit(null);
        return;
      }
      const c = checkNumber(field, t);
      this.setError(opts.name, 'error' in c ? c.error : null);
      if (commitIt && 'value' in c) commit(c.value);
    };
    return html`<div class="row"><label for=${id}>${label}</label>
      <div class="field">
        <input id=${id} type="number" name=${opts.name} step=${opts.step ?? '1'} min=${String(rule.min)} placeholder=${opts.placeholder ?? ''}
          aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? `${id}-err` : nothing}
          .value=${value === null ? '' : String(value)} ?disabled=${this.disabled}
          @input=${(e: Event) => check(e, false)} @change=${(e: Event) => check(e, true)} />
      </div>
      ${err ? html`<span class="field-error" id="${id}-err" data-testid="field-error" data-field=${opts.name}>${err}</span>` : nothing}</div>`;
  }

  private setError(name: string, error: string | null): void {
    if ((this.errors[name] ?? null) === error) return;
    const next = { ...this.errors };
    if (error === null) delete next[name];
    else next[name] = error;
    this.errors = next;
    this.dispatchEvent(
      new CustomEvent<Record<string, string>>('validity-change', { detail: next, bubbles: true, composed: true }),
    );
  }

  /** Drops the messages of fields that are no longer shown or whose value was set from outside (a link, a stored run). */
  protected override updated(changed: PropertyValues<this>): void {
    const prev = changed.get('config');
    const names = Object.keys(this.errors);
    if (names.length === 0) return;
    const keys: Record<string, keyof ExperimentConfig> = {
      rate: 'rate',
      requests: 'requests',
      'synth-requests': 'synthRequests',
      memory: 'memory',
      seed: 'seed',
      noise: 'predict',
      slo: 'slo',
      replicas: 'replicas',
    };
    let next = this.errors;
    for (const n of names) {
      const key = keys[n];
      const gone = !this.renderRoot.querySelector(`input[name="${n}"]`);
      const reset = prev !== undefined && key !== undefined && prev[key] !== this.config[key];
      if (gone || reset) {
        next = { ...next };
        delete next[n];
      }
    }
    if (next !== this.errors) {
      this.errors = next;
      this.dispatchEvent(
        new CustomEvent<Record<string, string>>('validity-change', { detail: next, bubbles: true, composed: true }),
      );
    }
  }

  /**
   * What the chosen cost model is: the A100 reference, or a calibration profile by name,
   * with the power model its energy uses (a profile's own, never the A100's silently).
   */
  private costHint(name: string): string {
    if (name.startsWith('profile:')) {
      const p = this.profiles.find((x) => x.name === name);
      if (!p) return 'Cost: the calibration profile is not stored any more; pick another cost model.';
      return `Cost: round times from the calibration profile “${p.label.replace(/^Profile: /, '')}”, its fitted Llama-2 70B terms on this device; ${profilePowerHint(p.data)}.`;
    }
    return 'Cost: Llama-2 70B on 2× A100 (TP2); energy at 400 W per A100 busy, 60 W idle (the 2× A100 power model).';
  }

  /** Enter in a field commits it and asks for a run (`run-request`), as a form's submit would. */
  private onKey(e: KeyboardEvent): void {
    const t = e.composedPath()[0];
    if (e.key !== 'Enter' || !(t instanceof HTMLInputElement) || t.type === 'file') return;
    e.preventDefault();
    t.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
    this.dispatchEvent(new CustomEvent('run-request', { bubbles: true, composed: true }));
  }

  private async onFile(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const f = input.files?.[0];
    if (!f) return;
    // Refused before reading: a browser tab would try to hold the whole file as one string.
    const tooLarge = fileTooLarge('trace', f.size, f.name);
    this.setError('trace', tooLarge);
    if (tooLarge !== null) {
      input.value = '';
      return;
    }
    const text = await f.text();
    this.dispatchEvent(
      new CustomEvent<TraceFile>('trace-change', { detail: { name: f.name, text }, bubbles: true, composed: true }),
    );
  }

  private workload(): TemplateResult {
    const c = this.config;
    const unit = c.mode === 'seconds' ? 's' : 'round';
    let extra: TemplateResult | typeof nothing;
    if (isLmsys(c.preset)) {
      extra = html`
        ${this.numberInput(`Arrival rate λ (/${unit})`, 'rate', c.rate, (v) => v !== null && this.set({ rate: v, preset: v === 50 && c.preset === 'lmsys-high' ? 'lmsys-high' : v === 10 && c.preset === 'lmsys-low' ? 'lmsys-low' : 'lmsys' }), { step: 'any', name: 'rate' })}
        ${this.numberInput('Requests', 'requests', c.requests, (v) => v !== null && this.set({ requests: v }), { name: 'requests' })}
        <p class="hint muted">Lognormal stand-in for LMSYS-Chat-1M: prompt ~ LogN(ln 11, 1.616), output ~ LogN(ln 45, 1.131), s + o ≤ 4096.</p>`;
    } else if (c.preset === 'synthetic-zero' || c.preset === 'synthetic-poisson') {
      extra = html`${this.numberInput('Requests', 'synthRequests', c.synthRequests, (v) => this.set({ synthRequests: v }), { placeholder: 'drawn', name: 'synth-requests', nullable: true })}
        <p class="hint muted">M ~ U{30..50}, n ~ U{40..60}, s ~ U{1..5}, o ~ U{1..M−s}${c.preset === 'synthetic-poisson' ? ', λ ~ U[0.5, 1.5]' : ''}.</p>`;
    } else {
      extra = html`<label>Trace CSV <input type="file" name="trace" accept=".csv,text/csv" ?disabled=${this.disabled} @change=${(e: Event) => void this.onFile(e)} /></label>
        ${this.errors['trace'] ? html`<span class="field-error" data-testid="field-error" data-field="trace">${this.errors['trace']}</span>` : nothing}
        <p class="hint muted">${this.traceLoaded ? html`Loaded <code>${this.traceLoaded}</code>. ` : c.traceName ? html`Upload <code>${c.traceName}</code> again. ` : nothing}Columns: <code>arrived_at,num_prefill_tokens,num_decode_tokens[,predicted_decode_tokens]</code> (Vidur format; seconds, or rounds in rounds mode).</p>`;
    }
    return html`<fieldset>
      <legend>Workload</legend>
      <label>Preset
        <select name="preset" ?disabled=${this.disabled} @change=${(e: Event) => this.dispatchEvent(new CustomEvent<ExperimentConfig>('config-change', { detail: applyPreset(this.config, (e.target as HTMLSelectElement).value as Preset), bubbles: true, composed: true }))}>
          ${PRESETS.map((p) => html`<option value=${p} ?selected=${p === c.preset}>${PRESET_LABELS[p]}</option>`)}
        </select></label>
      ${extra}
    </fieldset>`;
  }

  /**
   * SLO (the CLI's `--slo` grammar, checked by its parser as typed) and replicas behind a
   * router. A GPU refusal of replicas comes from the engine layer (`gpuRefusal`, set by the view).
   */
  private serving(): TemplateResult {
    const c = this.config;
    const typed = this.errors['slo'];
    const sloErr = typed ?? checkSloText(c.slo, c.mode);
    const unit = c.mode === 'seconds' ? 's or ms (no unit: seconds)' : 'rounds (no unit)';
    return html`<fieldset>
      <legend>SLO and replicas</legend>
      <div class="row"><label for="f-slo">SLO</label>
        <div class="field"><input id="f-slo" type="text" name="slo" .value=${c.slo} ?disabled=${this.disabled}
          placeholder="e.g. ttft=2s,tpot=0.2s" spellcheck="false" autocomplete="off"
          aria-invalid=${sloErr ? 'true' : 'false'} aria-describedby=${sloErr ? 'f-slo-err f-slo-hint' : 'f-slo-hint'}
          @input=${(e: Event) => this.setError('slo', checkSloText((e.target as HTMLInputElement).value, c.mode))}
          @change=${(e: Event) => {
            const t = (e.target as HTMLInputElement).value.trim();
            const err = checkSloText(t, c.mode);
            this.setError('slo', err);
            if (err === null) this.set({ slo: normalSlo(t) });
          }} /></div>
        ${sloErr ? html`<span class="field-error" id="f-slo-err" data-testid="field-error" data-field="slo">${sloErr}</span>` : nothing}</div>
      <p class="hint muted" id="f-slo-hint">As <code>kvsched simulate --slo</code>: terms <code>ttft</code>, <code>tpot</code>, <code>tbt</code>, <code>latency</code>, each a per-request bound (<code>ttft=2s</code>) or a run percentile (<code>p99-ttft=5s</code>); bounds in ${unit}. Adds each policy's attainment to the results. Empty: no SLO.</p>
      ${this.numberInput('Replicas K', 'replicas', c.replicas, (v) => v !== null && this.set({ replicas: v }), { name: 'replicas' })}
      <label>Router
        <select name="router" ?disabled=${this.disabled || c.replicas <= 1} @change=${(e: Event) => this.set({ router: (e.target as HTMLSelectElement).value as RouterKind })}>
          ${ROUTERS.map((r) => html`<option value=${r} ?selected=${r === c.router}>${r}</option>`)}
        </select></label>
      ${this.gpuRefusal ? html`<span class="field-error" role="alert" data-testid="gpu-refusal">${this.gpuRefusal}</span>` : nothing}
      <p class="hint muted">K copies of each policy, each with the whole KV capacity M, behind a router as Vidur's global schedulers: round-robin, random (seeded) or least-outstanding (fewest pending requests). The results show every replica and all together. The GPU engine runs round-robin and random (the trace is split before the replicas run); least-outstanding routes by the replicas' state and needs the CPU engine.</p>
    </fieldset>`;
  }

  override render(): TemplateResult {
    const c = this.config;
    const noise = c.predict.startsWith('noise:') ? Number(c.predict.slice(6)) : null;
    const costModels = listCostModels().filter((n) => !n.includes(':'));
    const synthetic = c.preset === 'synthetic-zero' || c.preset === 'synthetic-poisson';
    return html`<form @submit=${(e: Event) => e.preventDefault()} @keydown=${(e: KeyboardEvent) => this.onKey(e)}>
      ${this.workload()}
      <fieldset>
        <legend>Memory and time</legend>
        ${this.numberInput('KV capacity M (tokens)', 'memory', c.memory, (v) => this.set({ memory: v }), { placeholder: synthetic ? 'drawn' : String(LMSYS_MEMORY), name: 'memory', nullable: true })}
        <label>Time
          <select name="mode" ?disabled=${this.disabled} @change=${(e: Event) => this.set({ mode: (e.target as HTMLSelectElement).value === 'rounds' ? 'rounds' : 'seconds' })}>
            <option value="seconds" ?selected=${c.mode === 'seconds'}>seconds (cost model)</option>
            <option value="rounds" ?selected=${c.mode === 'rounds'}>rounds (1 round = 1 unit)</option>
          </select></label>
        ${this.numberInput('Seed', 'seed', c.seed, (v) => v !== null && this.set({ seed: v }), { name: 'seed' })}
      </fieldset>
      <fieldset>
        <legend>Predictions, cost, engine</legend>
        <label>Output-length prediction
          <select name="predict" ?disabled=${this.disabled} @change=${(e: Event) => this.set({ predict: (e.target as HTMLSelectElement).value === 'exact' ? 'exact' : `noise:${noise ?? 0.2}` })}>
            <option value="exact" ?selected=${noise === null}>exact</option>
            <option value="noise" ?selected=${noise !== null}>noisy (±E)</option>
          </select></label>
        ${noise !== null ? this.numberInput('Noise E', 'noise', noise, (v) => v !== null && this.set({ predict: `noise:${v}` }), { step: '0.05', name: 'noise' }) : nothing}
        <label>Cost model
          <select name="cost" ?disabled=${this.disabled} @change=${(e: Event) => this.set({ costModel: (e.target as HTMLSelectElement).value })}>
            ${costModels.map((n) => html`<option value=${n} ?selected=${n === c.costModel}>${n === 'a100-llama2-70b-tp2' ? 'A100 reference' : n}</option>`)}
            ${this.profiles.map((p) => html`<option value=${p.name} ?selected=${p.name === c.costModel}>${p.label}</option>`)}
          </select></label>
        <label>Engine
          <select name="engine" ?disabled=${this.disabled} @change=${(e: Event) => this.set({ engine: (e.target as HTMLSelectElement).value === 'gpu' ? 'gpu' : 'cpu' })}>
            <option value="cpu" ?selected=${c.engine !== 'gpu'}>CPU (Web Worker)</option>
            <option value="gpu" ?selected=${c.engine === 'gpu'} ?disabled=${this.gpu?.available !== true}
              title=${this.gpu?.available === true ? 'The WebGPU scheduler engine (same schedules as the CPU engine)' : `Unavailable: ${this.gpu?.reason ?? 'detecting WebGPU…'}`}>${this.gpu?.available === true ? 'GPU (WebGPU)' : 'GPU — unavailable (no WebGPU)'}</option>
          </select></label>
        <p class="hint muted" data-testid="cost-hint">${noise === null ? 'Policies see the true output length o.' : 'Policies see õ = max(1, round(o·U[1−E, 1+E])).'} ${this.costHint(c.costModel)}
          ${
            this.gpu?.available === true
              ? 'The GPU engine gives the same schedules; it keeps no per-round KV timeline and no per-request energy, and refuses (with its reason) what it cannot run: seconds mode needs the A100 cost model and M ≤ 65 535.'
              : html`<span data-testid="gpu-unavailable">GPU engine unavailable: ${this.gpu ? 'this browser has no usable WebGPU (the notice at the top says why).' : 'detecting WebGPU…'}</span>`
          }</p>
      </fieldset>
      ${this.serving()}
      <fieldset class="wide">
        <legend>Policies</legend>
        <kv-policy-list .policies=${c.policies} ?disabled=${this.disabled} @policies-change=${(e: CustomEvent<string[]>) => this.set({ policies: e.detail })}></kv-policy-list>
      </fieldset>
    </form>`;
  }

  static override styles = [
    base,
    css`
      form {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(23rem, 1fr));
        gap: 0.75rem 1rem;
      }
      fieldset {
        border: 1px solid var(--line);
        border-radius: 8px;
        padding: 0.6rem 0.9rem 0.8rem;
        margin: 0;
        display: flex;
        flex-direction: column;
        gap: 0.45rem;
        min-width: 0;
      }
      fieldset.wide {
        grid-column: 1 / -1;
      }
      legend {
        font-weight: 600;
        padding: 0 0.3rem;
      }
      label:not(.param),
      .row {
        display: grid;
        grid-template-columns: minmax(6rem, 7.5rem) minmax(0, 1fr);
        align-items: center;
        gap: 0.75rem;
        font-size: 0.92rem;
      }
      .row > label {
        display: block;
      }
      .field {
        display: flex;
        flex-direction: column;
        align-items: flex-end;
        gap: 0.2rem;
      }
      .field-error {
        grid-column: 1 / -1;
        color: var(--bad);
        font-size: 0.8rem;
        text-align: right;
        margin-top: -0.35rem;
      }
      input[aria-invalid='true'] {
        border-color: var(--bad);
        outline: 1px solid var(--bad);
      }
      .hint code {
        overflow-wrap: anywhere;
      }
      label > select {
        width: 100%;
      }
      .hint {
        font-size: 0.8rem;
        margin: 0;
      }
    `,
  ];
}

customElements.define('kv-config-form', KvConfigForm);
