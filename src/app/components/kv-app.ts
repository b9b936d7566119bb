/**
 * The app shell: header, navigation, WebGPU banner, and the current view (loaded on
 * demand). The route lives in the URL hash (see ../route.ts).
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { detectWebGpu, type WebGpuDetection } from '../../gpu/detect.ts';
import { parseHash, VIEW_LABELS, VIEWS, type Route, type ViewName } from '../route.ts';
import { base } from '../theme.ts';
import './kv-webgpu-banner.ts';

const LOADERS: Record<ViewName, () => Promise<unknown>> = {
  device: () => import('./kv-device-view.ts'),
  experiment: () => import('./kv-experiment-view.ts'),
  calibrate: () => import('./kv-calibrate-view.ts'),
  compare: () => import('./kv-compare-view.ts'),
  history: () => import('./kv-history-view.ts'),
};

/** Performance mark set when the shell is first rendered and clickable. */
export const SHELL_READY_MARK = 'kvsched:shell-interactive';

export class KvApp extends LitElement {
  static override properties = {
    route: { state: true },
    detection: { state: true },
    loaded: { state: true },
    loadError: { state: true },
  };

  declare route: Route;
  declare detection: WebGpuDetection | undefined;
  declare loaded: ReadonlySet<ViewName>;
  declare loadError: string | undefined;

  private readonly onHash = (): void => {
    this.route = parseHash(location.hash);
  };

  constructor() {
    super();
    this.route = parseHash(location.hash);
    this.detection = undefined;
    this.loaded = new Set();
    this.loadError = undefined;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.onHash);
    void detectWebGpu(undefined, { timeoutMs: 10_000 }).then((d) => {
      this.detection = d;
    });
  }

  override disconnectedCallback(): void {
    window.removeEventListener('hashchange', this.onHash);
    super.disconnectedCallback();
  }

  protected override firstUpdated(): void {
    performance.mark(SHELL_READY_MARK);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('route')) {
      const view = this.route.view;
      document.title = `${VIEW_LABELS[view]} · kvsched`;
      if (!this.loaded.has(view)) {
        LOADERS[view]().then(
          () => {
            this.loaded = new Set([...this.loaded, view]);
          },
          (e: unknown) => {
            this.loadError = `Could not load the ${VIEW_LABELS[view]} view: ${e instanceof Error ? e.message : String(e)}`;
          },
        );
      }
    }
  }

  private viewTemplate(): TemplateResult | typeof nothing {
    const { view, params } = this.route;
    if (!this.loaded.has(view))
      return this.loadError
        ? html`<p class="error" role="alert">${this.loadError}</p>`
        : html`<p class="muted">Loading…</p>`;
    const d = this.detection;
    switch (view) {
      case 'device':
        return html`<kv-device-view .detection=${d}></kv-device-view>`;
      case 'experiment':
        return html`<kv-experiment-view .params=${params} .detection=${d}></kv-experiment-view>`;
      case 'calibrate':
        return html`<kv-calibrate-view .detection=${d}></kv-calibrate-view>`;
      case 'compare':
        return html`<kv-compare-view></kv-compare-view>`;
      case 'history':
        return html`<kv-history-view></kv-history-view>`;
    }
  }

  override render(): TemplateResult {
    const current = this.route.view;
    return html`
      <header>
        <h1><a class="brand" href="#/experiment">kvsched</a></h1>
        <span class="tagline muted">LLM inference scheduling under KV-cache limits</span>
      </header>
      <nav aria-label="Views">
        ${VIEWS.map(
          (v) =>
            html`<a href="#/${v}" data-view=${v} aria-current=${v === current ? 'page' : 'false'}>${VIEW_LABELS[v]}</a>`,
        )}
      </nav>
      ${current === 'device' ? nothing : html`<kv-webgpu-banner .detection=${this.detection}></kv-webgpu-banner>`}
      <main>${this.viewTemplate()}</main>
    `;
  }

  static override styles = [
    base,
    css`
      :host {
        max-width: 78rem;
        margin: 0 auto;
        padding: 0 1.25rem 3rem;
      }
      header {
        display: flex;
        align-items: baseline;
        gap: 1rem;
        padding: 1rem 0 0.5rem;
        flex-wrap: wrap;
      }
      h1 {
        margin: 0;
        font-size: 1.35rem;
      }
      .brand {
        font-weight: 700;
        font-size: 1.35rem;
        color: var(--fg);
        text-decoration: none;
      }
      nav {
        display: flex;
        gap: 0.25rem;
        border-bottom: 1px solid var(--line);
        margin-bottom: 1rem;
        flex-wrap: wrap;
      }
      nav a {
        padding: 0.5rem 0.9rem;
        color: var(--muted);
        text-decoration: none;
        border-bottom: 3px solid transparent;
        margin-bottom: -1px;
      }
      nav a:hover {
        color: var(--fg);
      }
      nav a[aria-current='page'] {
        color: var(--fg);
        border-bottom-color: var(--accent);
        font-weight: 600;
      }
    `,
  ];
}

customElements.define('kv-app', KvApp);

declare global {
  interface HTMLElementTagNameMap {
    'kv-app': KvApp;
  }
}
