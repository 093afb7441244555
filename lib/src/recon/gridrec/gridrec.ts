import { createFftArena, type FftArena } from '../signal/fft-arena.js';
import { DEFAULT_FILTER_PARAMETERS, filterResponse } from '../filters.js';
import { RecentCache, geometryKey } from '../recent-cache.js';
import { paddedLength } from './padding.js';
import type { FilterName, FilterParameters } from '../filters.js';
import {
  KERNEL_HALF_WIDTH,
  KERNEL_SAMPLES_PER_CELL,
  correctionTable,
  kernelTable
} from './pswf.js';

/** Everything GridRec needs that depends on the geometry only, not on the data. */
export interface GridrecGeometry {
  /** Projection angles in radians. */
  readonly angles: Float32Array;
  /** Detector width. */
  readonly pixels: number;
  /** Reconstructed image width and height (TomoPy's num_gridx = num_gridy; default pixels). */
  readonly size: number;
  readonly filter: FilterName;
  readonly filterParameters?: FilterParameters;
}

/** Plans of this thread by geometry and filter; each holds a grid of padded² complex floats. */
const recentPlans = new RecentCache<GridrecPlan>(2);

/** Columns of the frequency grid transformed together, so each row read stays in one cache line. */
const COLUMN_BLOCK = 8;

/**
 * GridRec (Dowd et al. 1999) as TomoPy computes it: each projection's 1-D transform, filtered
 * and phase-shifted to the rotation centre, is spread onto a Cartesian frequency grid with a
 * PSWF kernel; one 2-D transform then gives the image, whose kernel apodisation is divided out.
 * Two sinograms go through at once as the real and imaginary parts of one complex signal.
 *
 * A plan holds the tables, transforms and buffers of one geometry, so the streaming case (one
 * sinogram after another with the same angles) allocates nothing per slice. Not thread-safe:
 * one plan per worker.
 */
export class GridrecPlan {
  readonly pixels: number;
  readonly size: number;
  readonly angleCount: number;
  /** Padded transform length: the next power of two ≥ pixels, at least 16. */
  private readonly padded: number;
  private readonly filterGain: Float64Array;
  /** Per angle and frequency: first grid cell and kernel weights in u and v. */
  private readonly firstU: Int32Array;
  private readonly firstV: Int32Array;
  private readonly countU: Uint8Array;
  private readonly countV: Uint8Array;
  private readonly weightU: Float64Array;
  private readonly weightV: Float64Array;
  private readonly fft: FftArena;
  private readonly order: Int32Array;
  /**
   * For image index i (row or column): where the real and imaginary parts of its grid cell lie
   * in a transformed line (internal order), and its kernel correction.
   */
  private readonly imageCells: Int32Array;
  private readonly imageCorrection: Float64Array;
  private readonly line: Float32Array;
  /**
   * The complex frequency grid, padded × padded, row-major, interleaved re/im, in float32 as
   * TomoPy's; after the row transforms each row is in the FFT's internal order.
   */
  private readonly grid: Float32Array;
  private readonly columns: Float32Array;
  private phaseCentre = Number.NaN;
  private readonly phaseRe: Float64Array;
  private readonly phaseIm: Float64Array;

  /**
   * The plan for a geometry: a recent one of this thread, else a new one (the transforms'
   * WebAssembly module loads asynchronously). Sharing is safe because reconstructPair runs to
   * its end without yielding.
   */
  static async create(geometry: GridrecGeometry): Promise<GridrecPlan> {
    const { cutoff, order } = geometry.filterParameters ?? DEFAULT_FILTER_PARAMETERS;
    const where = geometryKey(geometry.angles, geometry.pixels, geometry.size, 0);
    const key = `${geometry.filter}/${cutoff}/${order}/${where}`;
    const known = recentPlans.peek(key);
    if (known !== undefined) return known;
    const padded = paddedLength(geometry.pixels);
    const fft = await createFftArena(padded, [
      2 * padded,
      2 * padded * padded,
      2 * padded * COLUMN_BLOCK
    ]);
    const plan = new GridrecPlan(geometry, fft);
    recentPlans.set(key, plan);
    return plan;
  }

  private constructor(geometry: GridrecGeometry, fft: FftArena) {
    const { angles, pixels, size } = geometry;
    this.pixels = pixels;
    this.size = size;
    this.angleCount = angles.length;
    const padded = paddedLength(pixels);
    this.padded = padded;
    const half = padded / 2;
    if (size > padded)
      throw new RangeError(`GridRec image size ${size} exceeds its padded grid of ${padded}`);

    // The filter is sampled at frequency j / padded, with TomoPy's scale π/(padded·angles) for
    // its unscaled transforms.
    const response = filterResponse(
      geometry.filter,
      padded,
      half,
      geometry.filterParameters ?? DEFAULT_FILTER_PARAMETERS
    );
    const norm = Math.PI / padded / angles.length;
    this.filterGain = response.map(value => value * norm);
    this.phaseRe = new Float64Array(half);
    this.phaseIm = new Float64Array(half);

    const table = kernelTable();
    const reach = 2 * KERNEL_HALF_WIDTH + 1;
    const entries = angles.length * half;
    this.firstU = new Int32Array(entries);
    this.firstV = new Int32Array(entries);
    this.countU = new Uint8Array(entries);
    this.countV = new Uint8Array(entries);
    this.weightU = new Float64Array(entries * reach);
    this.weightV = new Float64Array(entries * reach);
    for (let p = 0; p < angles.length; p++) {
      const cos = Math.fround(Math.cos(angles[p]));
      const sin = Math.fround(Math.sin(angles[p]));
      for (let j = 1; j < half; j++) {
        const entry = p * half + j;
        this.placeKernel(j * cos + half, table, entry, this.firstU, this.countU, this.weightU);
        this.placeKernel(j * sin + half, table, entry, this.firstV, this.countV, this.weightV);
      }
    }
    const correction = correctionTable(padded, table);

    this.fft = fft;
    this.order = fft.order;
    [this.line, this.grid, this.columns] = fft.buffers;
    // The image's middle is the grid's corner: index i sits at i + pad - half, wrapped.
    const pad = Math.floor((padded - size) / 2);
    this.imageCells = new Int32Array(2 * size);
    this.imageCorrection = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const cell = (i + pad - half + padded) % padded;
      this.imageCells[2 * i] = fft.order[2 * cell];
      this.imageCells[2 * i + 1] = fft.order[2 * cell + 1];
      this.imageCorrection[i] = correction[i + pad];
    }
  }

  /** The grid cells within the kernel's reach of `coordinate` and their weights. */
  private placeKernel(
    coordinate: number,
    table: Float64Array,
    entry: number,
    first: Int32Array,
    count: Uint8Array,
    weight: Float64Array
  ): void {
    const padded = this.padded;
    const low = Math.max(1, Math.ceil(coordinate - KERNEL_HALF_WIDTH));
    const high = Math.min(padded - 1, Math.floor(coordinate + KERNEL_HALF_WIDTH));
    const reach = 2 * KERNEL_HALF_WIDTH + 1;
    first[entry] = low;
    count[entry] = Math.max(0, high - low + 1);
    for (let cell = low, k = 0; cell <= high; cell++, k++)
      weight[entry * reach + k] =
        table[Math.round(Math.abs(coordinate - cell) * KERNEL_SAMPLES_PER_CELL)];
  }

  /** The phase ramp that moves the origin of each projection to the rotation centre. */
  private setCentre(centre: number): void {
    if (centre === this.phaseCentre) return;
    const step = (2 * Math.PI * centre) / this.padded;
    for (let j = 0; j < this.phaseRe.length; j++) {
      this.phaseRe[j] = this.filterGain[j] * Math.cos(j * step);
      this.phaseIm[j] = -this.filterGain[j] * Math.sin(j * step);
    }
    this.phaseCentre = centre;
  }

  /**
   * Reconstructs one or two sinograms (angles × pixels each) into `outFirst` / `outSecond`
   * (size × size each). Both sinograms use the same rotation centre.
   */
  reconstructPair(
    first: Float32Array,
    second: Float32Array | undefined,
    centre: number,
    outFirst: Float32Array,
    outSecond: Float32Array | undefined
  ): void {
    this.setCentre(centre);
    this.grid.fill(0);
    this.spreadProjections(first, second);
    this.transformRows();
    this.transformColumnsInto(outFirst, outSecond);
  }

  /** Phase 1: each projection's filtered transform, spread onto the frequency grid. */
  private spreadProjections(first: Float32Array, second: Float32Array | undefined): void {
    const { padded, pixels, line, grid, phaseRe, phaseIm, order } = this;
    const half = padded / 2;
    const rowLength = 2 * padded;
    const reach = 2 * KERNEL_HALF_WIDTH + 1;
    const { firstU, firstV, countU, countV, weightU, weightV } = this;
    for (let p = 0; p < this.angleCount; p++) {
      const offset = p * pixels;
      // TomoPy takes the backward transform (e^{+}) of first + i·second; that is the conjugate
      // of the forward transform of first − i·second, so the imaginary parts flip twice.
      line.fill(0);
      for (let i = 0; i < pixels; i++) {
        line[2 * i] = first[offset + i];
        line[2 * i + 1] = second === undefined ? 0 : -second[offset + i];
      }
      this.fft.forward(line, line);
      for (let j = 1; j < half; j++) {
        const fr = phaseRe[j];
        const fi = phaseIm[j];
        const ar = line[order[2 * j]];
        const ai = -line[order[2 * j + 1]];
        const br = line[order[2 * (padded - j)]];
        const bi = -line[order[2 * (padded - j) + 1]];
        // The frequency and its mirror: filter·phase, and its conjugate for the mirror.
        const c1r = fr * ar - fi * ai;
        const c1i = fr * ai + fi * ar;
        const c2r = fr * br + fi * bi;
        const c2i = fr * bi - fi * br;
        const entry = p * half + j;
        const u0 = firstU[entry];
        const v0 = firstV[entry];
        const nu = countU[entry];
        const nv = countV[entry];
        const wu0 = entry * reach;
        for (let ku = 0; ku < nu; ku++) {
          const wu = weightU[wu0 + ku];
          const row = (u0 + ku) * rowLength;
          const mirrorRow = (padded - u0 - ku) * rowLength;
          for (let kv = 0; kv < nv; kv++) {
            const w = wu * weightV[wu0 + kv];
            const cell = row + 2 * (v0 + kv);
            const mirror = mirrorRow + 2 * (padded - v0 - kv);
            grid[cell] += w * c1r;
            grid[cell + 1] += w * c1i;
            grid[mirror] += w * c2r;
            grid[mirror + 1] += w * c2i;
          }
        }
      }
    }
  }

  /** Phase 2a: the forward transform of every row of the grid, in place (internal order). */
  private transformRows(): void {
    const rowLength = 2 * this.padded;
    const { grid } = this;
    for (let row = 0; row < this.padded; row++) {
      const start = row * rowLength;
      const view = grid.subarray(start, start + rowLength);
      this.fft.forward(view, view);
    }
  }

  /**
   * Phase 2b and 3: the forward transform of the columns the image needs, then the kernel
   * correction, read from the grid's corners (the image's origin is at index 0 after the
   * transforms). Output row r, column c is grid cell (u(c), v(size - 1 - r)), as TomoPy lays it out.
   */
  private transformColumnsInto(outFirst: Float32Array, outSecond: Float32Array | undefined): void {
    const { padded, size, grid, columns, imageCells, imageCorrection } = this;
    const rowLength = 2 * padded;
    const columnLength = 2 * padded;
    for (let k0 = 0; k0 < size; k0 += COLUMN_BLOCK) {
      const block = Math.min(COLUMN_BLOCK, size - k0);
      // Gather `block` columns at once: cells of one row lie close together.
      for (let b = 0; b < block; b++) {
        const re = imageCells[2 * (k0 + b)];
        const im = imageCells[2 * (k0 + b) + 1];
        const column = b * columnLength;
        for (let u = 0, row = 0; u < padded; u++, row += rowLength) {
          columns[column + 2 * u] = grid[row + re];
          columns[column + 2 * u + 1] = grid[row + im];
        }
      }
      for (let b = 0; b < block; b++) {
        const k = k0 + b;
        const column = columns.subarray(b * columnLength, (b + 1) * columnLength);
        this.fft.forward(column, column);
        const correctionV = imageCorrection[k];
        const outRow = (size - 1 - k) * size;
        for (let j = 0; j < size; j++) {
          const factor = imageCorrection[j] * correctionV;
          outFirst[outRow + j] = factor * column[imageCells[2 * j]];
        }
        if (outSecond !== undefined)
          for (let j = 0; j < size; j++) {
            const factor = imageCorrection[j] * correctionV;
            outSecond[outRow + j] = factor * column[imageCells[2 * j + 1]];
          }
      }
    }
  }
}
