/** What the main thread and the socket thread (socket-thread.ts) say to each other. */

/** Main thread to socket thread: a control reply to send, or close the sockets. */
export type ToSocketThread = 'close' | { send: (string | Uint8Array)[] };

/** Socket thread to main thread: its sockets are bound, or a control message arrived. */
export type FromSocketThread = 'bound' | { control: Uint8Array[] };

/** postMessage hands over Buffers as plain Uint8Arrays: view them as Buffers again, uncopied. */
export function asBuffers(frames: readonly Uint8Array[]): Buffer[] {
  return frames.map(asBuffer);
}

function asBuffer(frame: Uint8Array): Buffer {
  return Buffer.from(frame.buffer, frame.byteOffset, frame.length);
}

/** Frames to send, as handed over: text stays text, the rest become Buffers again. */
export function asWireFrames(frames: readonly (string | Uint8Array)[]): (string | Buffer)[] {
  return frames.map(frame => (typeof frame === 'string' ? frame : asBuffer(frame)));
}
