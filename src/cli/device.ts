import { describeWebGpu, detectWebGpu } from '../gpu/detect.ts';
import { ensureSwiftShaderIcd, listNodeAdapters } from '../gpu/node-gpu.ts';
import type { CliIo, Command } from './io.ts';
import { quietVulkanLoader } from './gpu.ts';
import { defineCommand, flag, helpText, parseOptions } from './options.ts';

export const DEVICE = defineCommand({
  name: 'device',
  summary: 'list the WebGPU adapters found (Node, Dawn)',
  usage: ['[--json]'],
  description: `Without a GPU, Dawn uses Chromium's SwiftShader when VK_ICD_FILENAMES points at its ICD;
kvsched sets VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json in-process when the
variable is unset and that file exists (apt-get install -y chromium libvulkan1). The Vulkan
loader's "XDG_RUNTIME_DIR is invalid" warning is harmless; kvsched points the variable at a
private directory when it is unset, which silences it.`,
  options: { json: flag('print the adapters as JSON') },
  epilogue: 'Exit status: 0 at least one adapter, 1 none, 2 bad input.',
});

export const deviceCommand: Command = {
  name: DEVICE.name,
  summary: DEVICE.summary,
  spec: DEVICE,
  help: helpText(DEVICE),
  async run(argv: string[], io: CliIo): Promise<number> {
    const { help, values: a } = parseOptions(DEVICE, argv);
    if (help) {
      io.out(helpText(DEVICE));
      return 0;
    }
    quietVulkanLoader();
    const icd = ensureSwiftShaderIcd();
    const { adapters, problems } = await listNodeAdapters();
    const rows = [];
    for (const f of adapters) {
      // Dawn's GPUSupportedFeatures is iterable but has no forEach (which detectWebGpu uses).
      const view = {
        info: f.adapter.info,
        limits: f.adapter.limits,
        features: new Set(f.adapter.features as Iterable<string>),
      };
      const gpu = { requestAdapter: () => Promise.resolve(view) } as unknown as GPU;
      rows.push({ via: f.via, name: f.name, detection: await detectWebGpu(gpu) });
    }
    if (a.json) {
      io.out(JSON.stringify({ vkIcdFilenames: icd ?? null, adapters: rows, problems }, null, 2) + '\n');
    } else {
      io.out(`VK_ICD_FILENAMES=${icd ?? '(unset)'}\n`);
      if (rows.length === 0) io.out('no WebGPU adapter found\n');
      rows.forEach((r, i) => io.out(`${i + 1}. ${r.name}  [${r.via}]\n   ${describeWebGpu(r.detection)}\n`));
      for (const p of problems) io.err(`kvsched device: ${p}\n`);
    }
    return adapters.length > 0 ? 0 : 1;
  },
};
