import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { ReconInputError } from '../recon/errors.js';
import { parseFilterName } from '../recon/filters.js';
import { loadSinograms, parseSliceRange } from '../recon/load.js';
import { writeNpy } from '../recon/npy.js';
import { parseAlgorithm } from '../recon/options.js';
import type { ReconstructOptions } from '../recon/options.js';
import { reconstruct } from '../recon/reconstruct.js';
import { slicePng } from '../recon/slice-image.js';

interface ReconCommandOptions {
  algorithm: string;
  filter?: string;
  iterations?: string;
  center?: string;
  slices?: string;
  angles?: string;
  sinogramOrder?: boolean;
  clip: boolean;
  threads?: string;
  output: string;
  png?: string;
}

function wholeNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  // 0 is refused here too, so that it fails before the input is read.
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1)
    throw new ReconInputError(`${flag} ${JSON.stringify(text)}: expected a whole number ≥ 1`);
  return Number(text);
}

function parseCenter(text: string | undefined): number | 'auto' | undefined {
  if (text === undefined || text === 'auto') return text;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new ReconInputError(
      `--center ${JSON.stringify(text)}: expected a detector coordinate such as 296.5, or auto`
    );
  return value;
}

/** Refuses an output whose folder is missing or read-only before any work is done. */
async function checkWritableFolder(flag: string, folder: string): Promise<void> {
  try {
    await access(folder, constants.W_OK);
  } catch {
    throw new ReconInputError(`${flag}: the folder ${folder} does not exist or is not writable`);
  }
}

/** A bar on a terminal; in logs and CI a line at each quarter. */
function sliceProgress(total: number): { update(done: number): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: 'reconstructing {bar} {value}/{total} slices | {eta_formatted} left',
      stream: process.stderr,
      hideCursor: true
    });
    bar.start(total, 0);
    return { update: done => bar.update(done), stop: () => bar.stop() };
  }
  let reported = 0;
  return {
    update(done) {
      const quarter = Math.floor((done / total) * 4);
      if (quarter > reported) {
        reported = quarter;
        process.stderr.write(`reconstructed ${done}/${total} slices\n`);
      }
    },
    stop() {}
  };
}

/**
 * Writes one PNG per slice into `directory` all or nothing: into a temporary folder beside it,
 * renamed into place at the end (files already in `directory` are replaced one by one).
 */
async function writeSlicePngs(
  directory: string,
  images: Float32Array,
  slices: number,
  size: number,
  firstRow: number
): Promise<void> {
  await mkdir(dirname(resolve(directory)), { recursive: true });
  const staging = await mkdtemp(join(dirname(resolve(directory)), `.${basename(directory)}-`));
  try {
    const names: string[] = [];
    for (let s = 0; s < slices; s++) {
      const name = `slice-${String(firstRow + s).padStart(4, '0')}.png`;
      const image = images.subarray(s * size * size, (s + 1) * size * size);
      await writeFile(join(staging, name), slicePng(image, size));
      names.push(name);
    }
    await mkdir(directory, { recursive: true });
    for (const name of names) await rename(join(staging, name), join(directory, name));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export function addReconCommand(program: Command): void {
  program
    .command('recon')
    .description(
      'Reconstruct slices from an APS DataExchange HDF5 file or a NumPy array of projections'
    )
    .argument('<input>', 'file.h5 (DataExchange) or projections.npy (angles, rows, pixels)')
    .requiredOption(
      '--algorithm <name>',
      'gridrec, fbp (filtered), bp (TomoPy\'s "fbp"), mlem or sirt'
    )
    .option(
      '--filter <name>',
      'gridrec and fbp: none, shepp, cosine, hann, hamming, ramlak, parzen, butterworth (default shepp)'
    )
    .option('--iterations <n>', 'mlem and sirt: iterations (default 1, as TomoPy)')
    .option('--center <c|auto>', 'rotation centre (detector pixel) or auto (default: width / 2)')
    .option('--slices <a:b>', 'detector rows to reconstruct, end exclusive (default all)')
    .option('--angles <angles.npy>', 'angles in radians (required for .npy input)')
    .option('--sinogram-order', '.npy input is (slices, angles, pixels) rather than projections')
    .option('--no-clip', 'mlem: keep negative sinogram values (TomoPy does not clip them)')
    .option('--threads <n>', 'worker threads (default: every core)')
    .requiredOption('--output <out.npy>', 'float32 array (slices, N, N) to write')
    .option(
      '--png <dir>',
      'also write one greyscale PNG per slice (auto contrast) into this folder'
    )
    .action(async (input: string, options: ReconCommandOptions) => {
      // Every option is checked before anything is read or written.
      const slices = options.slices === undefined ? undefined : parseSliceRange(options.slices);
      const reconOptions: ReconstructOptions = {
        algorithm: parseAlgorithm(options.algorithm, '--algorithm'),
        filter:
          options.filter === undefined ? undefined : parseFilterName(options.filter, '--filter'),
        iterations: wholeNumber('--iterations', options.iterations),
        center: parseCenter(options.center),
        clipNegative: options.clip,
        threads: wholeNumber('--threads', options.threads)
      };
      if (!options.output.endsWith('.npy'))
        throw new ReconInputError(
          `--output ${options.output}: expected a file name ending in .npy`
        );
      await checkWritableFolder('--output', dirname(resolve(options.output)));

      const loaded = await loadSinograms(input, {
        slices,
        anglesPath: options.angles,
        sinogramOrder: options.sinogramOrder
      });
      const { sinograms, angles } = loaded;
      // Only now is the detector width known, which bounds the centre.
      const center = reconOptions.center;
      if (typeof center === 'number' && (center < 0 || center > sinograms.pixels))
        throw new ReconInputError(
          `--center ${center}: expected a detector coordinate from 0 to ${sinograms.pixels} (the detector width of ${input}), or auto`
        );
      if (loaded.guarded > 0)
        process.stderr.write(
          `${loaded.guarded} values ≤ 0 after flat/dark normalisation were floored before -log\n`
        );
      const progress = sliceProgress(sinograms.slices);
      const started = performance.now();
      let result;
      try {
        result = await reconstruct(sinograms, angles, reconOptions, {
          onProgress: done => progress.update(done)
        });
      } finally {
        progress.stop();
      }
      const seconds = (performance.now() - started) / 1000;
      const searching = result.foundCenter?.seconds ?? 0;
      if (result.foundCenter !== undefined)
        process.stderr.write(
          `centre found at ${result.foundCenter.center.toFixed(2)} in ${searching.toFixed(2)} s (${result.foundCenter.method})\n`
        );
      await writeNpy(options.output, [result.slices, result.size, result.size], result.data);
      if (options.png !== undefined)
        await writeSlicePngs(options.png, result.data, result.slices, result.size, loaded.firstRow);
      const centers = [...new Set(result.centers)].map(c => c.toFixed(2)).join(', ');
      const plural = result.slices === 1 ? 'slice' : 'slices';
      const rate = result.slices / (seconds - searching);
      console.log(
        `${result.slices} ${plural} of ${result.size}×${result.size} (${reconOptions.algorithm}, centre ${centers}) in ${seconds.toFixed(2)} s: ${rate.toFixed(1)} slices/s${searching > 0 ? ' after the centre search' : ''} → ${options.output}`
      );
    });
}
