/** Browser (Vite) side of the shader loader: the WGSL files bundled as `?raw` strings. */
import attnDecode from '../../shaders/attn-decode.wgsl?raw';
import attnPrefill from '../../shaders/attn-prefill.wgsl?raw';
import matmul from '../../shaders/matmul.wgsl?raw';
import matmulGpu from '../../shaders/matmul-gpu.wgsl?raw';
import probeFma from '../../shaders/probe-fma.wgsl?raw';
import probeStream from '../../shaders/probe-stream.wgsl?raw';
import engineLayout from '../../shaders/engine/layout.wgsl?raw';
import engineScheduler from '../../shaders/engine/scheduler.wgsl?raw';
import { checkShaderSet, joinWgsl, type ShaderLoader, type ShaderSet, type WgslSource } from './shaders.ts';

export const browserShaders: ShaderSet = checkShaderSet({
  'attn-decode': attnDecode,
  'attn-prefill': attnPrefill,
  matmul,
  'matmul-gpu': matmulGpu,
  'probe-stream': probeStream,
  'probe-fma': probeFma,
});

export const browserShaderLoader: ShaderLoader = { load: () => Promise.resolve(browserShaders) };

/** The GPU engine's kernel (layout + scheduler), bundled. */
export const engineShader: WgslSource = joinWgsl([
  ['engine/layout', engineLayout],
  ['engine/scheduler', engineScheduler],
]);
