import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import h5wasm, { type Dataset, type File as H5File } from 'h5wasm/node';
import { ReconInputError } from './errors.js';
import type { ProjectionStack } from './types.js';

/**
 * Reads an APS DataExchange HDF5 file (what dxchange.read_aps_32id reads): projections, flat
 * (white) and dark fields, and the projection angles. h5wasm's Node build opens the file on the
 * real file system and reads hyperslabs through libhdf5, so only the requested rows are read.
 */

export interface DataExchange {
  /** /exchange/data: angles × rows × pixels. */
  readonly projections: ProjectionStack;
  /** /exchange/data_white (flat fields), same rows and pixels. */
  readonly white: ProjectionStack;
  /** /exchange/data_dark, same rows and pixels. */
  readonly dark: ProjectionStack;
  /** Projection angles in radians, one per projection. */
  readonly theta: Float32Array;
  /** 'default' when /exchange/theta is absent and the angles are spread evenly over [0, π]. */
  readonly thetaSource: 'file' | 'default';
}

export interface ReadDataExchangeOptions {
  /** Detector rows [start, end) to read; all rows when absent. */
  readonly rows?: readonly [number, number];
  /** Largest read handed to libhdf5 at once (whole angles; 64 MiB by default). */
  readonly blockBytes?: number;
}

const DATA = '/exchange/data';
const WHITE = '/exchange/data_white';
const DARK = '/exchange/data_dark';
const THETA = '/exchange/theta';

// HDF5 type classes (H5Tpublic.h) that convert to float32.
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;

// Projections are read in blocks of whole angles of at most this size, so that libhdf5's
// buffer in the WebAssembly heap stays small whatever the size of the dataset.
const DEFAULT_BLOCK_BYTES = 64 * 1024 * 1024;

export async function readDataExchange(
  path: string,
  options: ReadDataExchangeOptions = {}
): Promise<DataExchange> {
  await checkReadableFile(path);
  const module = await h5wasm.ready;
  // HDF5 errors become exceptions carrying libhdf5's error stack (instead of being printed and
  // ignored), for exactly the time of this read; everything below is synchronous.
  module.activate_throwing_error_handler();
  try {
    const file = openHdf5(path);
    try {
      return readExchange(file, path, options);
    } finally {
      file.close();
    }
  } finally {
    module.deactivate_throwing_error_handler();
  }
}

async function checkReadableFile(path: string): Promise<void> {
  try {
    const stats = await stat(path);
    if (!stats.isFile()) throw new ReconInputError(`${path} is not a file`);
  } catch (error) {
    if (error instanceof ReconInputError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ReconInputError(`file ${path} does not exist`);
    }
    throw new ReconInputError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

function openHdf5(path: string): H5File {
  let file: H5File;
  try {
    file = new h5wasm.File(resolve(path), 'r');
  } catch (error) {
    throw new ReconInputError(`${path} is not a readable HDF5 file: ${hdf5Reason(error)}`);
  }
  if (file.file_id < 0n) throw new ReconInputError(`${path} is not a readable HDF5 file`);
  return file;
}

/** The innermost entry of libhdf5's error stack, e.g. "file signature not found (Not an HDF5 file)". */
function hdf5Reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const entries = [...text.matchAll(/#\d+: .*? in [^(]*\(\): (.*)\n\s*major: .*\n\s*minor: (.*)/g)];
  const last = entries.at(-1);
  return last === undefined ? text.trim() : `${last[1].trim()} (${last[2].trim()})`;
}

function readExchange(file: H5File, path: string, options: ReadDataExchangeOptions): DataExchange {
  const exchange = file.get('exchange');
  if (!(exchange instanceof h5wasm.Group)) {
    throw new ReconInputError(
      `${path} has no /exchange group (not a DataExchange file); the top level holds: ${list(file.keys())}`
    );
  }
  const members = exchange.keys();
  const dataset = (name: string): Dataset | undefined => {
    const entity = members.includes(name) ? exchange.get(name) : null;
    return entity instanceof h5wasm.Dataset ? entity : undefined;
  };
  const required = (name: string): Dataset => {
    const found = dataset(name);
    if (found === undefined) {
      throw new ReconInputError(
        `${path}: dataset /exchange/${name} is missing; /exchange holds: ${list(members)}`
      );
    }
    return found;
  };

  const data = required('data');
  const white = required('data_white');
  const dark = required('data_dark');
  const [angles, rows, pixels] = volumeShape(data, DATA, path);
  for (const [field, name] of [
    [white, WHITE],
    [dark, DARK]
  ] as const) {
    const [, fieldRows, fieldPixels] = volumeShape(field, name, path);
    if (fieldRows !== rows || fieldPixels !== pixels) {
      throw new ReconInputError(
        `${path}: ${name} has shape (${shapeOf(field).join(', ')}) but ${DATA} has (${angles}, ${rows}, ${pixels}): rows and pixels must match`
      );
    }
  }

  const [start, end] = rowRange(options.rows, rows, path);
  const theta = readTheta(dataset('theta'), angles, path);
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  const read = (field: Dataset, name: string) =>
    readRows(field, name, path, start, end, blockBytes);
  return {
    projections: read(data, DATA),
    white: read(white, WHITE),
    dark: read(dark, DARK),
    ...theta
  };
}

function shapeOf(dataset: Dataset): number[] {
  return dataset.metadata.shape ?? [];
}

/** The (angles, rows, pixels) of a numeric 3-D dataset. */
function volumeShape(dataset: Dataset, name: string, path: string): [number, number, number] {
  const shape = shapeOf(dataset);
  if (shape.length !== 3) {
    throw new ReconInputError(
      `${path}: ${name} has shape (${shape.join(', ')}); expected 3-D (angles, rows, pixels)`
    );
  }
  if (shape.some(length => length === 0)) {
    throw new ReconInputError(`${path}: ${name} has shape (${shape.join(', ')}), an empty axis`);
  }
  checkNumeric(dataset, name, path);
  return [shape[0], shape[1], shape[2]];
}

function checkNumeric(dataset: Dataset, name: string, path: string): void {
  const { type, size } = dataset.metadata;
  const numeric = type === H5T_INTEGER || (type === H5T_FLOAT && (size === 4 || size === 8));
  if (!numeric) {
    throw new ReconInputError(
      `${path}: ${name} has type ${JSON.stringify(dataset.dtype)}; expected integers or float32/float64`
    );
  }
}

function rowRange(
  requested: readonly [number, number] | undefined,
  rows: number,
  path: string
): [number, number] {
  if (requested === undefined) return [0, rows];
  const [start, end] = requested;
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(end) ||
    start < 0 ||
    end > rows ||
    start >= end
  ) {
    throw new ReconInputError(
      `rows [${start}, ${end}) is out of range: ${DATA} in ${path} has ${rows} rows (a range within [0, ${rows}) is expected)`
    );
  }
  return [start, end];
}

/** Rows [start, end) of every angle, as float32, read in blocks of whole angles. */
function readRows(
  dataset: Dataset,
  name: string,
  path: string,
  start: number,
  end: number,
  blockBytes: number
): ProjectionStack {
  const [angles, , pixels] = shapeOf(dataset);
  const rows = end - start;
  const angleValues = rows * pixels;
  const out = new Float32Array(angles * angleValues);
  const anglesPerBlock = Math.max(
    1,
    Math.floor(blockBytes / (angleValues * dataset.metadata.size))
  );
  for (let first = 0; first < angles; first += anglesPerBlock) {
    const last = Math.min(angles, first + anglesPerBlock);
    let block: unknown;
    try {
      block = dataset.slice([[first, last], [start, end], []]);
    } catch (error) {
      throw new ReconInputError(`${path}: reading ${name} failed: ${hdf5Reason(error)}`);
    }
    copyAsFloat32(block, out, first * angleValues, (last - first) * angleValues, name, path);
  }
  return { data: out, angles, rows, pixels };
}

function copyAsFloat32(
  block: unknown,
  out: Float32Array,
  offset: number,
  count: number,
  name: string,
  path: string
): void {
  if (block instanceof Float32Array && block.length === count) {
    out.set(block, offset);
    return;
  }
  if (block instanceof BigInt64Array || block instanceof BigUint64Array) {
    for (let i = 0; i < count; i++) out[offset + i] = Number(block[i]);
    return;
  }
  if (ArrayBuffer.isView(block) && !(block instanceof DataView)) {
    const values = block as unknown as ArrayLike<number>;
    if (values.length === count) {
      for (let i = 0; i < count; i++) out[offset + i] = values[i];
      return;
    }
  }
  throw new ReconInputError(`${path}: ${name} did not read as ${count} numbers`);
}

/**
 * As dxchange.read_aps_32id: /exchange/theta holds degrees and is converted to radians; when it is
 * absent the angles are np.linspace(0, π, angles) (π included).
 */
function readTheta(
  dataset: Dataset | undefined,
  angles: number,
  path: string
): Pick<DataExchange, 'theta' | 'thetaSource'> {
  const theta = new Float32Array(angles);
  if (dataset === undefined) {
    const step = angles > 1 ? Math.PI / (angles - 1) : 0;
    for (let i = 0; i < angles; i++) theta[i] = i * step;
    if (angles > 1) theta[angles - 1] = Math.PI; // linspace pins the end point
    return { theta, thetaSource: 'default' };
  }
  checkNumeric(dataset, THETA, path);
  const count = dataset.metadata.total_size;
  if (count !== angles) {
    throw new ReconInputError(
      `${path}: ${THETA} has ${count} values (shape (${shapeOf(dataset).join(', ')})) but ${DATA} has ${angles} angles`
    );
  }
  const degrees = new Float64Array(angles);
  let values: unknown;
  try {
    values = dataset.value;
  } catch (error) {
    throw new ReconInputError(`${path}: reading ${THETA} failed: ${hdf5Reason(error)}`);
  }
  const asFloat32 = new Float32Array(angles);
  copyAsFloat32(values, asFloat32, 0, angles, THETA, path);
  // float64 angles keep their precision through the conversion (float32 only at the end).
  if (values instanceof Float64Array) degrees.set(values);
  else degrees.set(asFloat32);
  for (let i = 0; i < angles; i++) theta[i] = (degrees[i] * Math.PI) / 180;
  return { theta, thetaSource: 'file' };
}

function list(names: readonly string[]): string {
  return names.length === 0 ? '(nothing)' : names.join(', ');
}
