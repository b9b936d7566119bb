/** Browser (Vite) side of the GPU engine's shader loader: the WGSL bundled as a `?raw` string. */
import scheduler from '../../shaders/engine/scheduler.wgsl?raw';

export function loadEngineShader(): Promise<string> {
  return Promise.resolve(scheduler);
}
