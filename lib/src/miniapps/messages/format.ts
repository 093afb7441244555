import { randomUUID } from 'node:crypto';
import { MiniAppInputError } from '../errors.js';

/**
 * The one wire format of Mini-App messages (MASS producers → Kafka → MASA consumers): a
 * little-endian binary header, then the payload as raw C-order array bytes starting at an 8-byte
 * aligned offset. Producer and consumer share this file, so they cannot disagree on serialisation
 * (the original used pickle on one side and eval on the other). Every message carries its run,
 * producer, sequence number and send time, for per-message latency and loss detection.
 * Byte-by-byte table and a Python reader: docs/miniapps-message-format.md.
 */

export const MESSAGE_MAGIC = 'PSMA';
export const MESSAGE_FORMAT_VERSION = 1;
/** Bytes from the magic to the reserved field; the shape starts here. */
export const FIXED_HEADER_BYTES = 56;
/** The payload starts at a multiple of this, so even a Float64Array view needs no copy. */
export const PAYLOAD_ALIGNMENT = 8;
/** The label length is one byte. */
export const MAX_LABEL_BYTES = 255;
/** NumPy's limit on the number of axes. */
export const MAX_RANK = 64;

// Codes start at 1 so that a zeroed byte is never a valid kind or dtype.
export const PAYLOAD_KINDS = ['points', 'sinograms', 'projections', 'bytes', 'custom'] as const;
export type PayloadKind = (typeof PAYLOAD_KINDS)[number];

export const DTYPES = ['float32', 'float64', 'uint8', 'int16', 'uint16', 'int32'] as const;
export type Dtype = (typeof DTYPES)[number];

export type PayloadArray =
  Float32Array | Float64Array | Uint8Array | Int16Array | Uint16Array | Int32Array;

/** Bit 0 of the flags byte: the light-source geometry section is present. */
const FLAG_GEOMETRY = 0x01;
const KNOWN_FLAGS = FLAG_GEOMETRY;

const U32_MAX = 0xffff_ffff;

interface DtypeInfo {
  readonly size: number;
  /** NumPy's dtype string, for the docs and error messages. */
  readonly numpy: string;
  view(buffer: ArrayBufferLike, byteOffset: number, length: number): PayloadArray;
  alloc(length: number): PayloadArray;
}

const DTYPE_INFO: Record<Dtype, DtypeInfo> = {
  float32: {
    size: 4,
    numpy: '<f4',
    view: (b, o, n) => new Float32Array(b, o, n),
    alloc: n => new Float32Array(n)
  },
  float64: {
    size: 8,
    numpy: '<f8',
    view: (b, o, n) => new Float64Array(b, o, n),
    alloc: n => new Float64Array(n)
  },
  uint8: {
    size: 1,
    numpy: '|u1',
    view: (b, o, n) => new Uint8Array(b, o, n),
    alloc: n => new Uint8Array(n)
  },
  int16: {
    size: 2,
    numpy: '<i2',
    view: (b, o, n) => new Int16Array(b, o, n),
    alloc: n => new Int16Array(n)
  },
  uint16: {
    size: 2,
    numpy: '<u2',
    view: (b, o, n) => new Uint16Array(b, o, n),
    alloc: n => new Uint16Array(n)
  },
  int32: {
    size: 4,
    numpy: '<i4',
    view: (b, o, n) => new Int32Array(b, o, n),
    alloc: n => new Int32Array(n)
  }
};

interface KindRule {
  /** Required dtype; any dtype when absent (custom). */
  readonly dtype?: Dtype;
  /** Required rank; any rank up to MAX_RANK when absent (custom). */
  readonly rank?: number;
  readonly axes: string;
  /** The axis whose length the geometry's angle count must equal (light-source kinds only). */
  readonly angleAxis?: number;
}

// A consumer of a kind can rely on its dtype and axes; anything else travels as `custom`.
const KIND_RULES: Record<PayloadKind, KindRule> = {
  points: { dtype: 'float64', rank: 2, axes: '[points, dimensions]' },
  sinograms: { dtype: 'float32', rank: 3, axes: '[slices, angles, pixels]', angleAxis: 1 },
  projections: { dtype: 'float32', rank: 3, axes: '[angles, rows, pixels]', angleAxis: 0 },
  bytes: { dtype: 'uint8', rank: 1, axes: '[bytes]' },
  custom: { axes: 'any shape' }
};

/** Where the detector block sits; only for `sinograms` and `projections`. */
export interface LightSourceGeometry {
  /** Projection angles in radians, one per entry of the shape's angle axis (sent as float32). */
  readonly angles: ArrayLike<number>;
  /** Detector row of the block's first slice (sinograms) or first row (projections); default 0. */
  readonly firstRow?: number;
  /** Rotation centre in pixels; NaN (the default) when unknown. */
  readonly rotationCenter?: number;
}

/** What a producer puts in front of its payload; the dtype comes from the payload's array type. */
export interface MessageHeader {
  readonly kind: PayloadKind;
  /** C-order shape; defaults to one axis of the payload's length. */
  readonly shape?: readonly number[];
  /** UUID of the run (canonical text form); sent as its 16 raw bytes. */
  readonly runId: string;
  /** 0 … 2^32 − 1. */
  readonly producerId: number;
  /** Starts at 0 for each (run, producer) and counts up by 1; a safe integer (< 2^53). */
  readonly sequence: number;
  /** Milliseconds since the Unix epoch; stamped with epochMillisNow() at encoding when absent. */
  readonly sendTimeMs?: number;
  readonly geometry?: LightSourceGeometry;
  /** Short UTF-8 name of a `custom` payload (at most 255 bytes), e.g. the plug-in source's name. */
  readonly label?: string;
}

export interface DecodedGeometry {
  readonly angles: Float32Array;
  readonly firstRow: number;
  /** NaN when unknown. */
  readonly rotationCenter: number;
}

export interface DecodedHeader {
  readonly version: number;
  readonly kind: PayloadKind;
  readonly dtype: Dtype;
  readonly shape: number[];
  /** Lower-case canonical UUID text. */
  readonly runId: string;
  readonly producerId: number;
  readonly sequence: number;
  readonly sendTimeMs: number;
  readonly geometry?: DecodedGeometry;
  readonly label?: string;
  /** Offset of the payload from the start of the message (a multiple of 8). */
  readonly payloadOffset: number;
  readonly payloadBytes: number;
}

export interface DecodedMessage {
  readonly header: DecodedHeader;
  /**
   * A view into the message's own bytes when they are aligned for the dtype, else an aligned copy.
   * A view keeps the whole buffer it points into alive (for kafkajs: the fetched batch), so
   * `slice()` it before keeping it for long.
   */
  readonly payload: PayloadArray;
  readonly payloadCopied: boolean;
}

/**
 * Wall-clock milliseconds since the Unix epoch with sub-millisecond precision. Monotonic within a
 * process (unlike Date.now()); latency between hosts still needs their clocks synchronised.
 */
export function epochMillisNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A fresh run id. */
export function newRunId(): string {
  return randomUUID();
}

/** The message as one Buffer: a single allocation, the payload copied once. */
export function encodeMessage(header: MessageHeader, payload: PayloadArray): Buffer {
  assertLittleEndianHost();
  const dtype = dtypeOf(payload);
  const fields = checkHeader(header, dtype, payload.byteLength);
  const message = Buffer.allocUnsafeSlow(fields.layout.payloadOffset + payload.byteLength);
  writeHeader(message, fields);
  message.set(
    new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength),
    fields.layout.payloadOffset
  );
  return message;
}

/**
 * The size encodeMessage() would produce for this header and payload size, to check against the
 * topic's max.message.bytes before building a message. Does not validate the header.
 */
export function messageSize(header: MessageHeader, payloadBytes: number): number {
  if (!Number.isSafeInteger(payloadBytes) || payloadBytes < 0) {
    throw new MiniAppInputError(
      `payloadBytes = ${payloadBytes} is not allowed; expected a non-negative integer`
    );
  }
  const rank = header.shape?.length ?? 1;
  const labelBytes = header.label === undefined ? 0 : Buffer.byteLength(header.label, 'utf8');
  const angleCount = header.geometry === undefined ? undefined : header.geometry.angles.length;
  return layoutOf(rank, labelBytes, angleCount).payloadOffset + payloadBytes;
}

/** Header and payload of an encoded message; the payload is zero-copy when aligned. */
export function decodeMessage(message: Buffer | Uint8Array): DecodedMessage {
  assertLittleEndianHost();
  const total = message.byteLength;
  if (total < MESSAGE_MAGIC.length || !hasMagic(message)) {
    throw new MiniAppInputError(
      `not a Mini-App message: it starts with ${describeStart(message)}, expected the magic "${MESSAGE_MAGIC}"`
    );
  }
  if (total <= 4) throw truncated('the fixed header', FIXED_HEADER_BYTES, total);
  const version = message[4];
  if (version !== MESSAGE_FORMAT_VERSION) {
    throw new MiniAppInputError(
      `message format version ${version} is not supported (expected ${MESSAGE_FORMAT_VERSION})`
    );
  }
  if (total < FIXED_HEADER_BYTES) throw truncated('the fixed header', FIXED_HEADER_BYTES, total);
  const view = new DataView(message.buffer, message.byteOffset, total);

  const kind = PAYLOAD_KINDS[message[5] - 1];
  if (kind === undefined) {
    throw new MiniAppInputError(
      `payload kind = ${message[5]} (byte 5) is unknown; expected ${codeList(PAYLOAD_KINDS)}`
    );
  }
  const dtype = DTYPES[message[6] - 1];
  if (dtype === undefined) {
    throw new MiniAppInputError(
      `dtype = ${message[6]} (byte 6) is unknown; expected ${codeList(DTYPES)}`
    );
  }
  const rank = message[7];
  const runId = uuidText(message.subarray(8, 24));
  const producerId = view.getUint32(24, true);
  const payloadOffsetField = view.getUint32(28, true);
  const sequenceBig = view.getBigUint64(32, true);
  const sendTimeMs = view.getFloat64(40, true);
  const payloadBytes = view.getUint32(48, true);
  const flags = message[52];
  const labelLength = message[53];

  if ((flags & ~KNOWN_FLAGS) !== 0) {
    throw new MiniAppInputError(
      `flags = 0x${flags.toString(16)} (byte 52) has unknown bits; expected 0x00 or 0x01 (geometry)`
    );
  }
  if (sequenceBig > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new MiniAppInputError(
      `sequence = ${sequenceBig} is above 2^53 - 1; expected a safe integer`
    );
  }
  checkSendTime(sendTimeMs);

  const shapeEnd = FIXED_HEADER_BYTES + 4 * rank;
  if (total < shapeEnd) throw truncated(`the shape (rank ${rank})`, shapeEnd, total);
  const shape: number[] = [];
  for (let axis = 0; axis < rank; axis++) {
    shape.push(view.getUint32(FIXED_HEADER_BYTES + 4 * axis, true));
  }

  const labelEnd = shapeEnd + labelLength;
  if (total < labelEnd) throw truncated('the label', labelEnd, total);
  const label = labelLength === 0 ? undefined : decodeLabel(message.subarray(shapeEnd, labelEnd));

  let geometry: DecodedGeometry | undefined;
  let angleCount: number | undefined;
  if ((flags & FLAG_GEOMETRY) !== 0) {
    if (total < labelEnd + 4) throw truncated('the geometry section', labelEnd + 4, total);
    angleCount = view.getUint32(labelEnd, true);
    const geometryEnd = labelEnd + geometryBytes(angleCount);
    if (total < geometryEnd) throw truncated('the geometry section', geometryEnd, total);
    const angles = new Float32Array(angleCount);
    for (let i = 0; i < angleCount; i++) angles[i] = view.getFloat32(labelEnd + 4 + 4 * i, true);
    const rowOffset = labelEnd + 4 + 4 * angleCount;
    geometry = {
      angles,
      firstRow: view.getUint32(rowOffset, true),
      rotationCenter: view.getFloat64(rowOffset + 4, true)
    };
  }

  const layout = layoutOf(rank, labelLength, angleCount);
  if (payloadOffsetField !== layout.payloadOffset) {
    throw new MiniAppInputError(
      `payload offset = ${payloadOffsetField} (bytes 28-31) does not match the header layout, which puts the payload at ${layout.payloadOffset}`
    );
  }
  checkKind(kind, dtype, shape, geometry?.angles.length, label);
  checkPayloadSize(shape, dtype, payloadBytes, 'the header says the payload is');

  const expectedTotal = layout.payloadOffset + payloadBytes;
  if (total < expectedTotal) throw truncated('the header and payload', expectedTotal, total);
  if (total > expectedTotal) {
    throw new MiniAppInputError(
      `message is ${total} bytes but its header and payload are ${expectedTotal}; ${total - expectedTotal} unexpected bytes after the payload`
    );
  }

  const info = DTYPE_INFO[dtype];
  const count = payloadBytes / info.size;
  const start = message.byteOffset + layout.payloadOffset;
  let payload: PayloadArray;
  let payloadCopied = false;
  if (start % info.size === 0) {
    payload = info.view(message.buffer, start, count);
  } else {
    // kafkajs hands out Buffers at arbitrary offsets inside the fetched batch; typed arrays
    // need element alignment, so an unaligned payload is copied once.
    payload = info.alloc(count);
    new Uint8Array(payload.buffer).set(message.subarray(layout.payloadOffset, expectedTotal));
    payloadCopied = true;
  }

  const header: DecodedHeader = {
    version,
    kind,
    dtype,
    shape,
    runId,
    producerId,
    sequence: Number(sequenceBig),
    sendTimeMs,
    ...(geometry !== undefined ? { geometry } : {}),
    ...(label !== undefined ? { label } : {}),
    payloadOffset: layout.payloadOffset,
    payloadBytes
  };
  return { header, payload, payloadCopied };
}

/**
 * The decoded message as JSON, numbers as plain arrays (the payload flat, in C order, with its
 * shape). Slow and several times larger than the binary form: for debugging and for consumers
 * that cannot read the binary format. JSON has no NaN or Infinity: those become null.
 */
export function messageToJson(message: DecodedMessage): string {
  const { header } = message;
  const geometry = header.geometry;
  return JSON.stringify({
    magic: MESSAGE_MAGIC,
    version: header.version,
    kind: header.kind,
    dtype: header.dtype,
    shape: header.shape,
    runId: header.runId,
    producerId: header.producerId,
    sequence: header.sequence,
    sendTimeMs: header.sendTimeMs,
    ...(geometry !== undefined
      ? {
          geometry: {
            angles: Array.from(geometry.angles),
            firstRow: geometry.firstRow,
            rotationCenter: Number.isNaN(geometry.rotationCenter) ? null : geometry.rotationCenter
          }
        }
      : {}),
    ...(header.label !== undefined ? { label: header.label } : {}),
    payload: Array.from(message.payload)
  });
}

/** The NumPy dtype string of a dtype (e.g. '<f8'). */
export function numpyDtype(dtype: Dtype): string {
  return DTYPE_INFO[dtype].numpy;
}

/** Bytes per element of a dtype. */
export function dtypeSize(dtype: Dtype): number {
  return DTYPE_INFO[dtype].size;
}

// --- encoding ---------------------------------------------------------------------------------

interface Layout {
  readonly labelOffset: number;
  readonly geometryOffset: number;
  readonly payloadOffset: number;
}

interface CheckedHeader {
  readonly kind: PayloadKind;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** The run id's 32 hex digits. */
  readonly runIdHex: string;
  readonly producerId: number;
  readonly sequence: number;
  readonly sendTimeMs: number;
  readonly label: string | undefined;
  readonly labelBytes: number;
  readonly geometry: Required<LightSourceGeometry> | undefined;
  readonly payloadBytes: number;
  readonly layout: Layout;
}

function layoutOf(rank: number, labelBytes: number, angleCount: number | undefined): Layout {
  const labelOffset = FIXED_HEADER_BYTES + 4 * rank;
  const geometryOffset = labelOffset + labelBytes;
  const end = geometryOffset + (angleCount === undefined ? 0 : geometryBytes(angleCount));
  const payloadOffset = Math.ceil(end / PAYLOAD_ALIGNMENT) * PAYLOAD_ALIGNMENT;
  return { labelOffset, geometryOffset, payloadOffset };
}

/** Angle count (u32), angles (f32 each), first row (u32), rotation centre (f64). */
function geometryBytes(angleCount: number): number {
  return 4 + 4 * angleCount + 4 + 8;
}

function checkHeader(header: MessageHeader, dtype: Dtype, payloadBytes: number): CheckedHeader {
  const { kind } = header;
  if (!PAYLOAD_KINDS.includes(kind)) {
    throw new MiniAppInputError(
      `kind = ${JSON.stringify(kind)} is unknown; expected one of ${PAYLOAD_KINDS.join(', ')}`
    );
  }
  const shape = header.shape ?? [payloadBytes / DTYPE_INFO[dtype].size];
  shape.forEach((length, axis) => checkU32(`shape[${axis}]`, length));
  checkU32('producerId', header.producerId);
  if (!Number.isSafeInteger(header.sequence) || header.sequence < 0) {
    throw new MiniAppInputError(
      `sequence = ${header.sequence} is not allowed; expected an integer from 0 to 2^53 - 1`
    );
  }
  const sendTimeMs = header.sendTimeMs ?? epochMillisNow();
  checkSendTime(sendTimeMs);
  // An empty label is no label: both are sent as length 0.
  const label = header.label === '' ? undefined : header.label;
  const labelBytes = label === undefined ? 0 : Buffer.byteLength(label, 'utf8');
  if (labelBytes > MAX_LABEL_BYTES) {
    throw new MiniAppInputError(
      `label is ${labelBytes} bytes of UTF-8; expected at most ${MAX_LABEL_BYTES}`
    );
  }
  const geometry = header.geometry === undefined ? undefined : checkGeometry(header.geometry);
  checkKind(kind, dtype, shape, geometry?.angles.length, label);
  checkPayloadSize(shape, dtype, payloadBytes, 'the payload holds');
  if (payloadBytes > U32_MAX) {
    throw new MiniAppInputError(
      `payload is ${payloadBytes} bytes; the format allows at most ${U32_MAX}`
    );
  }
  return {
    kind,
    dtype,
    shape,
    runIdHex: uuidHex(header.runId),
    producerId: header.producerId,
    sequence: header.sequence,
    sendTimeMs,
    label,
    labelBytes,
    geometry,
    payloadBytes,
    layout: layoutOf(shape.length, labelBytes, geometry?.angles.length)
  };
}

function checkGeometry(geometry: LightSourceGeometry): Required<LightSourceGeometry> {
  const firstRow = geometry.firstRow ?? 0;
  checkU32('geometry.firstRow', firstRow);
  const rotationCenter = geometry.rotationCenter ?? Number.NaN;
  if (typeof rotationCenter !== 'number' || Math.abs(rotationCenter) === Infinity) {
    throw new MiniAppInputError(
      `geometry.rotationCenter = ${String(rotationCenter)} is not allowed; expected a finite number of pixels, or NaN when unknown`
    );
  }
  for (let i = 0; i < geometry.angles.length; i++) {
    if (!Number.isFinite(geometry.angles[i])) {
      throw new MiniAppInputError(
        `geometry.angles[${i}] = ${geometry.angles[i]} is not finite; expected an angle in radians`
      );
    }
  }
  return { angles: geometry.angles, firstRow, rotationCenter };
}

function writeHeader(message: Buffer, fields: CheckedHeader): void {
  const { layout } = fields;
  // Reserved bytes and padding must be zero; the rest is overwritten below.
  message.fill(0, 0, layout.payloadOffset);
  message.write(MESSAGE_MAGIC, 0, 'latin1');
  message[4] = MESSAGE_FORMAT_VERSION;
  message[5] = PAYLOAD_KINDS.indexOf(fields.kind) + 1;
  message[6] = DTYPES.indexOf(fields.dtype) + 1;
  message[7] = fields.shape.length;
  // Strings are written in place: the message is the only allocation.
  message.write(fields.runIdHex, 8, 16, 'hex');
  message.writeUInt32LE(fields.producerId, 24);
  message.writeUInt32LE(layout.payloadOffset, 28);
  message.writeBigUInt64LE(BigInt(fields.sequence), 32);
  message.writeDoubleLE(fields.sendTimeMs, 40);
  message.writeUInt32LE(fields.payloadBytes, 48);
  message[52] = fields.geometry === undefined ? 0 : FLAG_GEOMETRY;
  message[53] = fields.labelBytes;
  fields.shape.forEach((length, axis) =>
    message.writeUInt32LE(length, FIXED_HEADER_BYTES + 4 * axis)
  );
  if (fields.label !== undefined) message.write(fields.label, layout.labelOffset, 'utf8');
  const geometry = fields.geometry;
  if (geometry !== undefined) {
    let offset = message.writeUInt32LE(geometry.angles.length, layout.geometryOffset);
    for (let i = 0; i < geometry.angles.length; i++) {
      offset = message.writeFloatLE(geometry.angles[i], offset);
    }
    offset = message.writeUInt32LE(geometry.firstRow, offset);
    message.writeDoubleLE(geometry.rotationCenter, offset);
  }
}

// --- checks shared by encoding and decoding ----------------------------------------------------

function checkKind(
  kind: PayloadKind,
  dtype: Dtype,
  shape: readonly number[],
  angleCount: number | undefined,
  label: string | undefined
): void {
  const rule = KIND_RULES[kind];
  if (rule.dtype !== undefined && dtype !== rule.dtype) {
    throw new MiniAppInputError(
      `dtype = ${dtype} is not allowed for kind ${kind}; expected ${rule.dtype} (send other dtypes as kind custom)`
    );
  }
  if (rule.rank !== undefined && shape.length !== rule.rank) {
    throw new MiniAppInputError(
      `shape = [${shape.join(', ')}] is not allowed for kind ${kind}; expected ${rule.rank} axes ${rule.axes}`
    );
  }
  if (shape.length > MAX_RANK) {
    throw new MiniAppInputError(`shape has ${shape.length} axes; expected at most ${MAX_RANK}`);
  }
  if (angleCount !== undefined) {
    if (rule.angleAxis === undefined) {
      throw new MiniAppInputError(
        `geometry is not allowed for kind ${kind}; expected it only for sinograms and projections`
      );
    }
    if (angleCount !== shape[rule.angleAxis]) {
      throw new MiniAppInputError(
        `geometry.angles has ${angleCount} angles but shape ${rule.axes} = [${shape.join(', ')}] has ${shape[rule.angleAxis]}; expected one angle per projection`
      );
    }
  }
  if (label !== undefined && kind !== 'custom') {
    throw new MiniAppInputError(
      `label = ${JSON.stringify(label)} is not allowed for kind ${kind}; expected a label only for kind custom`
    );
  }
}

function checkPayloadSize(
  shape: readonly number[],
  dtype: Dtype,
  payloadBytes: number,
  actualWording: string
): void {
  const needed = shape.reduce((product, length) => product * length, 1) * DTYPE_INFO[dtype].size;
  if (needed !== payloadBytes) {
    throw new MiniAppInputError(
      `shape [${shape.join(', ')}] of ${dtype} needs ${needed} payload bytes but ${actualWording} ${payloadBytes}`
    );
  }
}

function checkSendTime(sendTimeMs: number): void {
  if (typeof sendTimeMs !== 'number' || !Number.isFinite(sendTimeMs) || sendTimeMs < 0) {
    throw new MiniAppInputError(
      `sendTimeMs = ${sendTimeMs} is not allowed; expected a finite, non-negative number of milliseconds since the Unix epoch`
    );
  }
}

function checkU32(key: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw new MiniAppInputError(
      `${key} = ${value} is not allowed; expected an integer from 0 to ${U32_MAX}`
    );
  }
}

function dtypeOf(payload: PayloadArray): Dtype {
  if (payload instanceof Float32Array) return 'float32';
  if (payload instanceof Float64Array) return 'float64';
  if (payload instanceof Uint8Array) return 'uint8';
  if (payload instanceof Int16Array) return 'int16';
  if (payload instanceof Uint16Array) return 'uint16';
  if (payload instanceof Int32Array) return 'int32';
  const name = (payload as object | null)?.constructor?.name ?? String(payload);
  throw new MiniAppInputError(
    `payload is a ${name}; expected a Float32Array, Float64Array, Uint8Array (or Buffer), Int16Array, Uint16Array or Int32Array`
  );
}

// --- helpers -----------------------------------------------------------------------------------

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidHex(runId: string): string {
  if (typeof runId !== 'string' || !UUID_PATTERN.test(runId)) {
    throw new MiniAppInputError(
      `runId = ${JSON.stringify(runId)} is not a UUID; expected e.g. "0f8fad5b-d9cb-469f-a165-70867728950e"`
    );
  }
  return runId.replaceAll('-', '');
}

function uuidText(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function decodeLabel(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MiniAppInputError(
      `label (${bytes.byteLength} bytes after the shape) is not valid UTF-8`
    );
  }
}

function hasMagic(message: Uint8Array): boolean {
  for (let i = 0; i < MESSAGE_MAGIC.length; i++) {
    if (message[i] !== MESSAGE_MAGIC.charCodeAt(i)) return false;
  }
  return true;
}

function describeStart(message: Uint8Array): string {
  if (message.byteLength === 0) return 'nothing (0 bytes)';
  const start = message.subarray(0, Math.min(8, message.byteLength));
  const hex = Buffer.from(start.buffer, start.byteOffset, start.byteLength).toString('hex');
  return `0x${hex}${message.byteLength > 8 ? '…' : ''} (${message.byteLength} bytes)`;
}

function truncated(part: string, needed: number, actual: number): MiniAppInputError {
  return new MiniAppInputError(
    `truncated message: ${part} needs ${needed} bytes but the message has ${actual}`
  );
}

function codeList(names: readonly string[]): string {
  return names.map((name, i) => `${i + 1} (${name})`).join(', ');
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Payload bytes are copied as they lie in memory, which is little-endian on every host we know.
function assertLittleEndianHost(): void {
  if (!LITTLE_ENDIAN_HOST) {
    throw new MiniAppInputError(
      'this host is big-endian; Mini-App messages are little-endian and are not byte-swapped'
    );
  }
}
