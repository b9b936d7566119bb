/**
 * Minimal entry page: shows the WebGPU detection result. The Lit app replaces
 * this later.
 */
import { describeWebGpu, detectWebGpu } from '../gpu/detect.ts';

function el(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`index.html lacks #${id}`);
  return found;
}

async function main(): Promise<void> {
  const status = el('webgpu-status');
  const details = el('webgpu-details');
  const timer = el('timer-status');

  timer.textContent = globalThis.crossOriginIsolated
    ? 'Cross-origin isolated: performance.now() is precise (~5 µs).'
    : 'Not cross-origin isolated: performance.now() is coarse (~100 µs); serve with COOP/COEP headers.';

  const detection = await detectWebGpu();
  status.textContent = describeWebGpu(detection);
  status.className = detection.available ? 'ok' : 'bad';
  details.textContent = JSON.stringify(detection, null, 2);
  details.hidden = false;
}

main().catch((e: unknown) => {
  const status = document.getElementById('webgpu-status');
  if (status) {
    status.textContent = `Detection crashed: ${e instanceof Error ? e.message : String(e)}`;
    status.className = 'bad';
  }
  console.error(e);
});
