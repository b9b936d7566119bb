/**
 * URL routing: the view and its configuration live in the hash,
 * `#/experiment?preset=lmsys-high&pol=mcsf,vllm`, so a link restores both (and the
 * page works from any path, e.g. under `vite preview` or GitHub Pages).
 */
export const VIEWS = ['device', 'experiment', 'calibrate', 'compare', 'history'] as const;
export type ViewName = (typeof VIEWS)[number];

export const VIEW_LABELS: Record<ViewName, string> = {
  device: 'Device',
  experiment: 'Experiment',
  calibrate: 'Calibrate',
  compare: 'Compare devices',
  history: 'History',
};

export interface Route {
  view: ViewName;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  const view = (VIEWS as readonly string[]).includes(path) ? (path as ViewName) : 'experiment';
  return { view, params };
}

export function formatHash(route: Route): string {
  const qs = route.params.toString();
  return `#/${route.view}${qs ? `?${qs}` : ''}`;
}

/** Navigates (new history entry) to a view with params. */
export function navigate(view: ViewName, params: URLSearchParams = new URLSearchParams()): void {
  location.hash = formatHash({ view, params });
}

/** Replaces the current URL's params (no history entry, no hashchange). */
export function replaceParams(view: ViewName, params: URLSearchParams): void {
  const hash = formatHash({ view, params });
  if (location.hash !== hash) history.replaceState(history.state, '', hash);
}
