import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ReconInputError } from './errors.js';

/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0), read into float32 whatever numeric
 * dtype they hold, and written as NumPy itself writes a float32 C-order array.
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */

/** A C-order array converted to float32; `dtype` is the descriptor found in the file. */
export interface NpyArray {
  readonly shape: number[];
  readonly dtype: string;
  readonly data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const PREAMBLE_V1 = MAGIC.length + 2 + 2; // magic, version, uint16 header length
const PREAMBLE_V2 = MAGIC.length + 2 + 4; // uint32 header length (versions 2 and 3)
// NumPy pads the header so that the data start on a 64-byte boundary (ARRAY_ALIGN).
const ARRAY_ALIGN = 64;
// NumPy leaves room in the header to grow the first axis in place (GROWTH_AXIS_MAX_DIGITS).
const GROWTH_AXIS_MAX_DIGITS = 21;

type Reader = (view: DataView, offset: number, littleEndian: boolean) => number;

const READERS: Record<string, { size: number; read: Reader }> = {
  f4: { size: 4, read: (v, o, le) => v.getFloat32(o, le) },
  f8: { size: 8, read: (v, o, le) => v.getFloat64(o, le) },
  i1: { size: 1, read: (v, o) => v.getInt8(o) },
  u1: { size: 1, read: (v, o) => v.getUint8(o) },
  i2: { size: 2, read: (v, o, le) => v.getInt16(o, le) },
  u2: { size: 2, read: (v, o, le) => v.getUint16(o, le) },
  i4: { size: 4, read: (v, o, le) => v.getInt32(o, le) },
  u4: { size: 4, read: (v, o, le) => v.getUint32(o, le) }
};

const SUPPORTED_DTYPES =
  "'<f4', '<f8', '<i2', '<u2', '<i4', '<u4', '|u1', '|i1' (or big-endian '>')";

/** Reads a whole .npy file. */
export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ReconInputError(`file ${path} does not exist`);
    throw new ReconInputError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return parseNpy(bytes, path);
}

/** Parses the bytes of a .npy file; `name` (a path, usually) appears in error messages. */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  if (bytes.length < PREAMBLE_V1 || MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new ReconInputError(
      `${name} is not a NumPy .npy file (no \\x93NUMPY magic at the start)`
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const minor = bytes[7];
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = PREAMBLE_V1;
    headerLength = view.getUint16(8, true);
  } else if ((major === 2 || major === 3) && bytes.length >= PREAMBLE_V2) {
    headerStart = PREAMBLE_V2;
    headerLength = view.getUint32(8, true);
  } else {
    throw new ReconInputError(
      `${name}: .npy format version ${major}.${minor} is not supported (expected 1.0, 2.0 or 3.0)`
    );
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) {
    throw new ReconInputError(
      `${name}: the .npy header says it is ${headerLength} bytes long but the file ends after ${bytes.length - headerStart}`
    );
  }
  // Version 3 allows UTF-8 in the header (field names of structured dtypes); 1 and 2 are latin-1.
  const encoding = major === 3 ? 'utf-8' : 'latin1';
  const headerText = new TextDecoder(encoding).decode(bytes.subarray(headerStart, dataStart));
  const header = parseHeader(headerText, name);

  if (header.fortranOrder) {
    throw new ReconInputError(
      `${name}: fortran_order is True; only C-order arrays are supported (save with np.ascontiguousarray)`
    );
  }
  const { descr, shape } = header;
  const match = /^([<>|=])([a-z]\d+)$/.exec(descr);
  const reader = match === null ? undefined : READERS[match[2]];
  if (match === null || reader === undefined || (match[1] === '|' && reader.size !== 1)) {
    throw new ReconInputError(
      `${name}: dtype ${JSON.stringify(descr)} is not supported; supported: ${SUPPORTED_DTYPES}`
    );
  }
  // '=' (native) never appears in files NumPy writes; little-endian is every platform we run on.
  const littleEndian = match[1] !== '>';

  const count = shape.reduce((product, length) => product * length, 1);
  const needed = count * reader.size;
  const available = bytes.length - dataStart;
  if (available < needed) {
    throw new ReconInputError(
      `${name}: shape (${shape.join(', ')}) of ${descr} needs ${needed} data bytes but the file holds ${available}`
    );
  }
  const absolute = view.byteOffset + dataStart;
  // The common case (little-endian float32, aligned) is a plain copy.
  if (match[2] === 'f4' && littleEndian && absolute % 4 === 0) {
    const data = new Float32Array(view.buffer.slice(absolute, absolute + needed));
    return { shape, dtype: descr, data };
  }
  return { shape, dtype: descr, data: toFloat32(view, dataStart, count, reader, littleEndian) };
}

function toFloat32(
  view: DataView,
  start: number,
  count: number,
  reader: { size: number; read: Reader },
  littleEndian: boolean
): Float32Array {
  const data = new Float32Array(count);
  for (let i = 0, offset = start; i < count; i++, offset += reader.size) {
    data[i] = reader.read(view, offset, littleEndian);
  }
  return data;
}

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/**
 * The header is a Python dict literal, e.g. `{'descr': '<f4', 'fortran_order': False,
 * 'shape': (16, 8, 48), }`. A small tokenizer reads exactly that subset of Python.
 */
function parseHeader(text: string, name: string): NpyHeader {
  const fail = (what: string): never => {
    throw new ReconInputError(`${name}: malformed .npy header (${what}): ${text.trim()}`);
  };
  let position = 0;
  const skipSpace = () => {
    while (position < text.length && /\s/.test(text[position])) position++;
  };
  const expect = (char: string) => {
    skipSpace();
    if (text[position] !== char) fail(`expected ${JSON.stringify(char)} at ${position}`);
    position++;
  };
  const peek = () => {
    skipSpace();
    return text[position];
  };
  const readString = (): string => {
    skipSpace();
    const quote = text[position];
    if (quote !== "'" && quote !== '"') return fail(`expected a string at ${position}`);
    const end = text.indexOf(quote, position + 1);
    if (end < 0) return fail('unterminated string');
    const value = text.slice(position + 1, end);
    position = end + 1;
    return value;
  };
  const readValue = (): string | boolean | number[] => {
    const next = peek();
    if (next === "'" || next === '"') return readString();
    if (next === '(') {
      position++;
      const items: number[] = [];
      while (peek() !== ')') {
        // Python 2 wrote longs as `10L`.
        const number = /^(\d+)L?/.exec(text.slice(position));
        if (number === null) return fail(`expected a dimension at ${position}`);
        items.push(Number(number[1]));
        position += number[0].length;
        if (peek() === ',') position++;
        else if (peek() !== ')') fail(`expected "," or ")" at ${position}`);
      }
      position++;
      return items;
    }
    for (const [literal, value] of [
      ['True', true],
      ['False', false]
    ] as const) {
      if (text.startsWith(literal, position)) {
        position += literal.length;
        return value;
      }
    }
    return fail(`unexpected value at ${position}`);
  };

  // A list descr is a structured dtype: name what it is rather than a parse error.
  if (/'descr'\s*:\s*\[/.test(text)) {
    throw new ReconInputError(
      `${name}: structured dtypes are not supported; supported: ${SUPPORTED_DTYPES}`
    );
  }
  const fields = new Map<string, string | boolean | number[]>();
  expect('{');
  while (peek() !== '}') {
    if (position >= text.length) fail('unterminated dict');
    const key = readString();
    expect(':');
    fields.set(key, readValue());
    if (peek() === ',') position++;
    else if (peek() !== '}') fail(`expected "," or "}" at ${position}`);
  }

  const descr = fields.get('descr');
  const fortranOrder = fields.get('fortran_order');
  const shape = fields.get('shape');
  if (typeof descr !== 'string') return fail("no 'descr' string");
  if (typeof fortranOrder !== 'boolean') return fail("no 'fortran_order' True/False");
  if (!Array.isArray(shape)) return fail("no 'shape' tuple");
  return { descr, fortranOrder, shape };
}

/** The bytes NumPy's `np.save` writes for a float32 C-order array (format version 1.0). */
export function encodeNpy(shape: readonly number[], data: Float32Array): Uint8Array {
  checkShape(shape, data.length, 'the array to encode');
  const header = npyHeader(shape);
  const bytes = new Uint8Array(header.length + data.length * 4);
  bytes.set(header, 0);
  const view = new DataView(bytes.buffer);
  for (let i = 0, offset = header.length; i < data.length; i++, offset += 4) {
    view.setFloat32(offset, data[i], true);
  }
  return bytes;
}

/**
 * Writes `data` (C order, `shape`) as a version 1.0 '<f4' .npy file. The bytes go to a
 * temporary file beside `path` that is renamed into place, so readers never see half a file.
 */
export async function writeNpy(
  path: string,
  shape: readonly number[],
  data: Float32Array
): Promise<void> {
  checkShape(shape, data.length, path);
  const bytes = encodeNpy(shape, data);
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  );
  try {
    await writeFile(temporary, bytes, { flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ReconInputError(`cannot write ${path}: directory ${dirname(path)} does not exist`);
    }
    throw error;
  }
}

function checkShape(shape: readonly number[], length: number, name: string): void {
  if (!shape.every(n => Number.isInteger(n) && n >= 0)) {
    throw new ReconInputError(`${name}: shape (${shape.join(', ')}) must be non-negative integers`);
  }
  const count = shape.reduce((product, n) => product * n, 1);
  if (count !== length) {
    throw new ReconInputError(
      `${name}: shape (${shape.join(', ')}) holds ${count} values but the data has ${length}`
    );
  }
}

/** The version 1.0 header NumPy writes for a float32 C-order array of `shape`, byte for byte. */
export function npyHeader(shape: readonly number[]): Uint8Array {
  // Python's repr of a tuple: (), (5,), (2, 3).
  const shapeRepr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  if (shape.length > 0) dict += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length);
  const withNewline = dict.length + 1;
  // NumPy pads with a full ARRAY_ALIGN when already aligned; kept for identical bytes.
  const padding = ARRAY_ALIGN - ((PREAMBLE_V1 + withNewline) % ARRAY_ALIGN);
  const text = `${dict}${' '.repeat(padding)}\n`;
  if (text.length > 0xffff)
    throw new ReconInputError(`shape of rank ${shape.length} is too large for .npy 1.0`);
  const header = new Uint8Array(PREAMBLE_V1 + text.length);
  header.set(MAGIC, 0);
  header[6] = 1;
  header[7] = 0;
  new DataView(header.buffer).setUint16(8, text.length, true);
  for (let i = 0; i < text.length; i++) header[PREAMBLE_V1 + i] = text.charCodeAt(i);
  return header;
}
