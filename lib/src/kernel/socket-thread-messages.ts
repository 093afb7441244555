/** What the main thread and the socket thread (socket-thread.ts) say to each other. */

/** Main thread to socket thread: a control reply to send, or close the sockets. */
export type ToSocketThread = 'close' | { send: Uint8Array[] };

/** Socket thread to main thread: its sockets are bound, or a control message arrived. */
export type FromSocketThread = 'bound' | { control: Uint8Array[] };

/** postMessage hands over Buffers as plain Uint8Arrays: view them as Buffers again, uncopied. */
export function asBuffers(frames: readonly Uint8Array[]): Buffer[] {
  return frames.map(frame => Buffer.from(frame.buffer, frame.byteOffset, frame.length));
}
