/**
 * Loads HiGHS (WebAssembly) once. In Node the package finds its .wasm next to its
 * module; a browser build may need `configureHighs({ locateFile })` before the first
 * use (for example with Vite: `locateFile: () => wasmUrl` from `highs/runtime?url`).
 */
import type highsLoader from 'highs';
import type { Highs } from 'highs';

type LoaderOptions = NonNullable<Parameters<typeof highsLoader>[0]>;

let options: LoaderOptions | undefined;
let instance: Promise<Highs> | undefined;

/** Loader options for the next (first) load; has no effect after HiGHS has loaded. */
export function configureHighs(o: LoaderOptions): void {
  options = o;
}

/** The cached HiGHS instance (loaded on first call). */
export function getHighs(): Promise<Highs> {
  if (instance === undefined) {
    // Imported on first use: the module is large and most runs never need the LP.
    instance = import('highs')
      .then((m) => m.default(options))
      .catch((e: unknown) => {
        instance = undefined;
        throw e;
      });
  }
  return instance;
}
