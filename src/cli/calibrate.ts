import { calibrate, type CalibrationProgress } from '../calibrate/calibrate.ts';
import { deviceReferenceText, type DeviceReferenceStore } from '../calibrate/device-reference.ts';
import { defaultDeviceReferencePath, openDeviceReferenceFile } from '../calibrate/device-reference-node.ts';
import { TERM_NAMES, TERMS, type Term } from '../calibrate/fit.ts';
import { PRESETS } from '../calibrate/grid.ts';
import { serializeProfile, type Profile } from '../calibrate/profile.ts';
import { minorTermsNote } from '../calibrate/verdict.ts';
import { writeResult } from './out-file.ts';
import { openNodeSession, pickNodeAdapter } from '../gpu/node-gpu.ts';
import { GpuError, openSession } from '../gpu/session.ts';
import { loadNodeShaders } from '../gpu/shaders-node.ts';
import { AbortError } from '../model/abort.ts';
import { num, table } from './format.ts';
import { EXIT_DEVICE, quietVulkanLoader } from './gpu.ts';
import { CliError, UsageError, type CliIo, type Command } from './io.ts';
import { choice, defineCommand, flag, helpText, OPT, parseOptions, text } from './options.ts';
import { progressLine } from './progress.ts';

export const CALIBRATE = defineCommand({
  name: 'calibrate',
  summary: 'time WGSL attention kernels on this device and fit a cost-model profile',
  usage: [
    '[--preset quick|full] [--adapter NAME] [--out profile.json] [--device-reference FILE|off] [--new-device-reference] [--quiet]',
  ],
  description: `Runs WGSL kernels with Llama-2-70B head geometry (64 query heads, 8 KV heads, head dim 128)
in Node through Dawn (npm webgpu): a streaming-read and an FMA probe, then one sweep per term of
round µs = fixed + perToken·T + perKvToken·ΣL + perPrefillSquare·ΣC² + perDecodeRequest·B
+ perPrefillRequest·P (the linear layers over T, decode attention over B × L fitted on B·L and B,
prefill attention over C² with its dispatch as the intercept, the round trip), each fitted on its
own with a 95 % interval; sampling continues until the typical round is known within ±5 % or the
preset's budget ends. Held-out composite rounds give R² and MAPE; a replay of a real schedule's
rounds checks the prediction. Extrapolated to 80 full-width layers, compared with the A100
reference (a100-llama2-70b-tp2), and judged good / noisy / unusable (see docs/calibration.md).
The first usable calibration of a device keeps its reference probe's speed in a file on this
machine; later ones express their times at that speed, so that a calibration made while a
shared machine runs fast or slow is comparable (docs/calibration.md, "Device reference").`,
  options: {
    preset: choice(
      ['quick', 'full'] as const,
      'quick: 1 layer, widths ÷ 32 (about a minute on SwiftShader); ' +
        'full: 2 layers, widths ÷ 16, larger sweeps, 300 replayed rounds',
    ).withDefault('quick'),
    adapter: text('NAME', 'an adapter whose name contains NAME (see: kvsched device)'),
    out: OPT.out.withHelp(
      'write the profile (kvsched.profile/2 JSON); use it with kvsched simulate --cost-model profile:FILE',
    ),
    'device-reference': text(
      'FILE|off',
      "this machine's device references (default $KVSCHED_STATE_DIR/device-references.json, else " +
        '$XDG_STATE_HOME/kvsched/…, else ~/.local/state/kvsched/…); off: express the profile at its own speed and keep nothing',
    ),
    'new-device-reference': flag(
      "replace this device's stored reference with this calibration's speed (unless it is unusable); its history of calibrations starts again",
    ),
    quiet: OPT.quiet,
  },
  epilogue: `VK_ICD_FILENAMES is set to Chromium's SwiftShader ICD in-process when unset and present.
Exit status: 0, 1 the calibration stopped (device lost, validation error, interrupted), 2 bad input,
3 no usable WebGPU adapter.`,
});

/** What each term's work is and its decimals (emulated, Llama-2-70B, A100) in the table. */
const TERM_ROWS: Record<Term, { what: string; digits: readonly [number, number, number] }> = {
  fixedMicros: { what: 'round trip + intercepts', digits: [1, 0, 0] },
  perTokenMicros: { what: 'linear, compute', digits: [3, 1, 1] },
  perKvTokenMicros: { what: 'decode attention, bandwidth', digits: [5, 3, 4] },
  perPrefillSquareMicros: { what: 'prefill attention, compute', digits: [6, 4, 5] },
  perDecodeRequestMicros: { what: 'decode attention per sequence', digits: [2, 0, 0] },
  perPrefillRequestMicros: { what: 'prefill dispatch', digits: [1, 0, 0] },
};

function fmtRate(x: number, unit: string): string {
  const p = [
    ['T', 1e12],
    ['G', 1e9],
    ['M', 1e6],
    ['k', 1e3],
  ] as const;
  for (const [s, v] of p) if (x >= v) return `${(x / v).toFixed(2)} ${s}${unit}`;
  return `${x.toFixed(2)} ${unit}`;
}

/** `value [lo – hi]` when the interval is known. */
function withInterval(v: number, i: readonly [number, number] | undefined, d: number): string {
  return i ? `${num(v, d)} [${num(i[0], d)} – ${num(i[1], d)}]` : num(v, d);
}

export function describeProfile(p: Profile): string {
  const k = p.kernels;
  const lines: string[] = [];
  lines.push(
    `verdict: ${p.quality.verdict.toUpperCase()}${p.quality.reasons.length > 0 ? ` — ${p.quality.reasons.join('; ')}` : ''}`,
  );
  const minor = minorTermsNote(p.quality.minorTerms);
  if (minor) lines.push(`  ${minor}`);
  lines.push(
    `device: ${p.device.name}${p.device.adapter.isFallbackAdapter ? ' (fallback/software adapter)' : ''}; ${p.device.runtime}`,
  );
  lines.push(
    `  shader-f16: ${p.device.shaderF16 ? 'available (kernels still f32)' : 'not available — f32 only'}; timing: ${p.device.timing.method}, round trip ${num(p.device.timing.roundTripMicros, 0)} µs`,
  );
  lines.push(
    `  emulated: ${p.geometry.emulatedLayers} layer(s), hidden ${p.geometry.emulatedHidden} (÷${p.geometry.widthDivisor}), ${p.geometry.queryHeads} query / ${p.geometry.kvHeads} KV heads × ${p.geometry.headDim}`,
  );
  lines.push('');
  lines.push(
    `probes: streaming read ${fmtRate(p.probes.stream.bytesPerSecond, 'B/s')}, FMA ${fmtRate(p.probes.fma.flopPerSecond, 'FLOP/s')}`,
  );
  lines.push(
    table(
      ['kernel', 'size', 'time (ms)', 'rate', 'efficiency', 'vs'],
      [
        [
          'decode attention',
          `B=${k.decode.point.decodeBatch} L=${k.decode.point.kvLen}`,
          num(k.decode.measurement.medianMs, 2),
          fmtRate(k.decode.bytesPerSecond, 'B/s'),
          `${(100 * k.decode.efficiency).toFixed(0)} %`,
          'streaming probe',
        ],
        [
          'prefill attention',
          `C=${k.prefill.point.prefillChunk}`,
          num(k.prefill.measurement.medianMs, 2),
          fmtRate(k.prefill.flopPerSecond, 'FLOP/s'),
          `${(100 * k.prefill.efficiency).toFixed(0)} %`,
          'FMA probe',
        ],
        [
          'linear layers',
          `T=${k.linear.point.tokens}`,
          num(k.linear.measurement.medianMs, 2),
          fmtRate(k.linear.flopPerSecond, 'FLOP/s'),
          `${(100 * k.linear.efficiency).toFixed(0)} %`,
          'FMA probe',
        ],
      ],
    ).trimEnd(),
  );
  const c = p.fit.coefficients;
  const f = p.fullModel.coefficients;
  const r = p.reference.coefficients;
  const q = p.reference.ratios;
  lines.push('');
  const d = p.design;
  if (d) {
    const sw = (name: string, s: typeof d.linear) => `${name} ${s.points.length} points (R² ${s.fit.r2.toFixed(4)})`;
    lines.push(
      `sweeps: ${sw('linear', d.linear)}, ${sw('decode', d.decode)}, ${sw('prefill', d.prefill)}; ${d.visits} visits, ${d.samples} samples (${d.remeasured} re-measured), ${(d.elapsedMs / 1000).toFixed(1)} s, stopped: ${d.stoppedBecause}`,
    );
    lines.push(
      `  minimal round (1 token, 1 KV token): measured ${num(d.minimalRound.measuredMicros, 0)} µs, model ${num(d.minimalRound.predictedMicros, 0)} µs`,
    );
    if (d.drift)
      lines.push(
        `  drift normalisation: samples at the reference probe's ${(d.drift.referenceRate / 1e9).toFixed(2)} GFLOP/s ` +
          `(its ${Math.round(100 * d.drift.referenceQuantile)}th percentile), sensitivity β ${d.drift.beta.toFixed(2)}, ` +
          `${(100 * d.drift.commonModeShare).toFixed(0)} % of the repeats' variance removed`,
      );
    const dr = d.drift?.deviceReference;
    if (dr) lines.push(`  device reference: ${deviceReferenceText(dr)}`);
    if (d.linearDevices)
      lines.push(
        `  linear sweep over ${d.linearDevices.count} device${d.linearDevices.count === 1 ? '' : 's'}` +
          (d.linearDevices.levels.length > 1
            ? `, their levels ${d.linearDevices.levels.map((l) => l.toFixed(3)).join(' / ')} (1 = the pooled median)`
            : '') +
          (d.linearDevices.note !== undefined ? ` — ${d.linearDevices.note}` : ''),
      );
  }
  lines.push(
    `held-out check (${p.fit.heldOutPoints} composite rounds): R² ${p.fit.r2.toFixed(4)}, MAPE ${(100 * p.fit.mape).toFixed(1)} % (sweeps: min R² ${p.fit.train.r2.toFixed(4)}, MAPE ${(100 * p.fit.train.mape).toFixed(1)} %)`,
  );
  if (p.legacy) lines.push('  legacy profile (kvsched.profile/1): no intervals');
  else lines.push('  [lo – hi]: 95 % intervals');
  const ci = p.fit.intervals;
  const fi = p.fullModel.intervals;
  const ri = p.reference.ratioIntervals;
  lines.push(
    table(
      ['term', 'emulated (µs)', 'Llama-2-70B here (µs)', `${p.reference.name} (µs)`, 'this / A100'],
      TERMS.map((t) => {
        const [dc, df, dr] = TERM_ROWS[t].digits;
        const name = `${TERM_NAMES[t]} (${TERM_ROWS[t].what})`;
        const cv = c[t];
        const fv = f[t];
        // A profile written before the per-request terms lacks them: the cost model reads 0.
        if (cv === undefined || fv === undefined) return [name, 'absent: read as 0', 'absent: read as 0', '—', '—'];
        const qv = q[t];
        const inRef = r[t] !== undefined && r[t] > 0 && qv !== undefined;
        return [
          name,
          withInterval(cv, ci?.[t], dc),
          withInterval(fv, fi?.[t], df),
          inRef ? num(r[t] ?? 0, dr) : '—',
          inRef ? withInterval(qv, ri?.[t], 1) : 'not in the A100 model',
        ];
      }),
    ).trimEnd(),
  );
  const t = p.reference.typicalRound;
  lines.push('');
  lines.push(`typical lmsys round (${t.description}):`);
  lines.push(
    `  ${t.mean.decodeRequests.toFixed(1)} decoding requests, mean context ${(t.mean.decodeContext / Math.max(t.mean.decodeRequests, 1e-9)).toFixed(0)} tokens, ${t.mean.prefillTokens.toFixed(1)} prefill tokens per round:` +
      ` ${withInterval(t.deviceMicros / 1000, t.deviceInterval?.map((x) => x / 1000) as [number, number] | undefined, 1)} ms here vs ${num(t.referenceMicros / 1000, 1)} ms on the A100 pair (${withInterval(t.ratio, t.ratioInterval, 1)}×)`,
  );
  const rp = p.validation.replay;
  lines.push('');
  lines.push(
    rp
      ? `replay: ${rp.rounds} rounds of ${rp.schedule}${rp.skipped > 0 ? ` (${rp.skipped} skipped: predicted above the preset's cap)` : ''}: measured ${num(rp.measured / 1000, 1)} ms${rp.measuredRaw !== undefined ? ` (drift-normalised; ${num(rp.measuredRaw / 1000, 1)} ms as timed)` : ''}, predicted ${num(rp.predicted / 1000, 1)} ms, error ${rp.error >= 0 ? '+' : ''}${(100 * rp.error).toFixed(1)} %`
      : 'replay: not run',
  );
  const w = p.power;
  lines.push(
    `power: ${w.gpus} × ${num(w.activeWattsPerGpu, 0)} W active, ${num(w.idleWattsPerGpu, 0)} W idle (${w.source === 'default' ? `default for a ${w.adapterClass} adapter` : 'set by the user'}; ${w.name})`,
  );
  return lines.join('\n') + '\n';
}

export const calibrateCommand: Command = {
  name: CALIBRATE.name,
  summary: CALIBRATE.summary,
  spec: CALIBRATE,
  help: helpText(CALIBRATE),
  async run(argv: string[], io: CliIo): Promise<number> {
    const { help, values: a } = parseOptions(CALIBRATE, argv);
    if (help) {
      io.out(helpText(CALIBRATE));
      return 0;
    }
    const preset = PRESETS[a.preset];
    if (a['device-reference'] === 'off' && a['new-device-reference'])
      throw new UsageError('--new-device-reference needs device references: drop --device-reference off');
    let deviceReferences: DeviceReferenceStore | undefined;
    if (a['device-reference'] !== 'off') {
      try {
        deviceReferences = openDeviceReferenceFile(a['device-reference'] ?? defaultDeviceReferencePath());
      } catch (e) {
        throw new CliError(`${(e as Error).message}; fix or delete it, or pass --device-reference off`);
      }
    }
    quietVulkanLoader();
    let found;
    try {
      found = await pickNodeAdapter(a.adapter);
    } catch (e) {
      throw new CliError((e as Error).message, EXIT_DEVICE);
    }
    const progress = progressLine(io, a.quiet);
    progress.note(`kvsched: calibrating on ${found.name} (preset ${preset.name})`);
    const session = await openSession(found.adapter);
    const ac = new AbortController();
    const onSigint = () => ac.abort(new AbortError('interrupted'));
    process.once('SIGINT', onSigint);
    let last = '';
    try {
      const { version } = (await import('../../package.json', { with: { type: 'json' } })).default as {
        version: string;
      };
      const profile = await calibrate({
        session,
        // More devices on the same adapter for the linear sweep's rotation.
        openSession: () => openNodeSession(a.adapter),
        shaders: await loadNodeShaders(),
        preset,
        runtime: `Node ${process.version}, npm webgpu (Dawn), VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? '(unset)'}`,
        version,
        signal: ac.signal,
        ...(deviceReferences ? { deviceReferences } : {}),
        resetDeviceReference: a['new-device-reference'],
        onProgress: (p: CalibrationProgress) => {
          const line = `  ${p.phase}: ${p.label} (${p.done}/${p.total})`;
          // A terminal redraws the line; a log gets one line per phase.
          if (io.interactive) progress.show(line);
          else if (p.phase !== last) progress.note(line);
          last = p.phase;
        },
      });
      progress.clear();
      io.out(describeProfile(profile));
      if (a.out !== undefined) {
        const w = writeResult(a.out, serializeProfile(profile), 'calibrate');
        if (!w.ok) throw new CliError(w.message);
        progress.note(`kvsched: ${w.message} (use: kvsched simulate --cost-model profile:${a.out.given})`);
      }
      return 0;
    } catch (e) {
      if (e instanceof GpuError || (e as Error).name === 'CalibrationError' || ac.signal.aborted) {
        io.err(`\nkvsched calibrate: calibration stopped: ${(e as Error).message}\n`);
        return 1;
      }
      throw e;
    } finally {
      process.off('SIGINT', onSigint);
      session.destroy();
    }
  },
};
