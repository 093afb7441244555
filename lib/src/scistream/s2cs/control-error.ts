import * as grpc from '@grpc/grpc-js';

/** A refused control call: the gRPC status the client sees and a message naming what was wrong. */
export class ControlError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

export const invalid = (message: string): ControlError =>
  new ControlError(grpc.status.INVALID_ARGUMENT, message);
export const notFound = (uid: string): ControlError =>
  new ControlError(grpc.status.NOT_FOUND, `no session with uid "${uid}" on this gateway`);
export const denied = (message: string): ControlError =>
  new ControlError(grpc.status.PERMISSION_DENIED, message);
