import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { GATEWAY_PROTO, SCISTREAM_PROTO } from './control-proto.js';

/** Message shapes as proto-loader hands them over (longs as numbers, bytes as Buffers). */
export interface ControlRequest {
  uid: string;
  role: string;
  num_conn: number;
  rate: number;
}
export interface UpdateTargets {
  uid: string;
  remote_listeners: string[];
  role: string;
}
export interface ReleaseRequest {
  uid: string;
}
export interface HelloRequest {
  uid: string;
  prod_listeners: string[];
  role: string;
}
export interface ControlResponse {
  listeners: string[];
  prod_listeners: string[];
}
export interface AppResponse {
  message: string;
  listeners: string[];
}
export interface SessionQuery {
  uid: string;
}
export interface StreamCounters {
  channel: number;
  listener: string;
  target: string;
  bytes_in: number;
  bytes_out: number;
  connections: number;
  active_connections: number;
  throughput_bps: number;
  last_activity_ms: number;
}
export interface SessionStatus {
  uid: string;
  role: string;
  state: string;
  num_conn: number;
  backend: string;
  listeners: string[];
  targets: string[];
  owner: string;
  created_ms: number;
  reason: string;
}
export interface SessionMetrics {
  uid: string;
  channels: StreamCounters[];
  bytes_in: number;
  bytes_out: number;
  throughput_bps: number;
}
export interface VersionInfo {
  protocol_version: string;
  server: string;
  backends: string[];
  auth_required: boolean;
}
export interface SessionKeyMessage {
  uid: string;
  psk: Buffer;
  backend: string;
}

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true
};

function loadPackage(text: string): grpc.GrpcObject {
  const root = protobuf.parse(text, { keepCase: true }).root;
  return grpc.loadPackageDefinition(protoLoader.fromJSON(root.toJSON(), LOADER_OPTIONS));
}

function serviceClass(pkg: grpc.GrpcObject, path: string[]): grpc.ServiceClientConstructor {
  let node: unknown = pkg;
  for (const key of path) node = (node as Record<string, unknown>)[key];
  if (typeof node !== 'function') throw new Error(`Service ${path.join('.')} missing from proto`);
  return node as grpc.ServiceClientConstructor;
}

/** scistream.Control, the wire-compatible service. */
export const ControlService = serviceClass(loadPackage(SCISTREAM_PROTO), ['scistream', 'Control']);
/** pilotstreaming.scistream.v1.Gateway, our extension service. */
export const GatewayService = serviceClass(loadPackage(GATEWAY_PROTO), [
  'pilotstreaming',
  'scistream',
  'v1',
  'Gateway'
]);
