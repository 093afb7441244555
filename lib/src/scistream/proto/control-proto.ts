/**
 * The SciStream control protocol. `SCISTREAM_PROTO` is scistream-proto's `scistream.Control`
 * service, message for message and field number for field number, so the original Python client
 * talks to our S2CS unchanged. `GATEWAY_PROTO` is our own service beside it (status, list,
 * metrics, protocol version, and the gateway-to-gateway session key hand-over); keeping it in a
 * separate package means the original service is never changed.
 *
 * The texts live here rather than in .proto files so the compiled library carries them; the
 * wire-compatibility test writes SCISTREAM_PROTO to a file and generates Python stubs from it.
 */
export const SCISTREAM_PROTO = `syntax = "proto3";

package scistream;

message Request {
  string uid = 1;
  string role = 2;
  int32 num_conn = 3;
  int32 rate = 4;
}

message UpdateTargets {
  string uid = 1;
  repeated string remote_listeners = 2;
  string role = 3;
}

message Release {
  string uid = 1;
}

message Hello {
  string uid = 1;
  repeated string prod_listeners = 2;
  string role = 3;
}

message Response {
  repeated string listeners = 1;
  repeated string prod_listeners = 2;
}

message AppResponse {
  string message = 1;
  repeated string listeners = 2;
}

service Control {
  rpc req (Request) returns (Response);
  rpc update (UpdateTargets) returns (Response);
  rpc release (Release) returns (Response);
  rpc hello (Hello) returns (AppResponse);
}
`;

/** Version of our extension service; bumped on any incompatible change to GATEWAY_PROTO. */
export const GATEWAY_PROTOCOL_VERSION = '1.0';

export const GATEWAY_PROTO = `syntax = "proto3";

package pilotstreaming.scistream.v1;

message SessionQuery {
  string uid = 1;
}

message ListQuery {}

message StreamCounters {
  int32 channel = 1;
  string listener = 2;
  string target = 3;
  int64 bytes_in = 4;
  int64 bytes_out = 5;
  int32 connections = 6;
  int32 active_connections = 7;
  double throughput_bps = 8;
  int64 last_activity_ms = 9;
}

message SessionStatus {
  string uid = 1;
  string role = 2;
  string state = 3;
  int32 num_conn = 4;
  string backend = 5;
  repeated string listeners = 6;
  repeated string targets = 7;
  string owner = 8;
  int64 created_ms = 9;
  string reason = 10;
}

message SessionList {
  repeated SessionStatus sessions = 1;
}

message SessionMetrics {
  string uid = 1;
  repeated StreamCounters channels = 2;
  int64 bytes_in = 3;
  int64 bytes_out = 4;
  double throughput_bps = 5;
}

message VersionQuery {}

message VersionInfo {
  string protocol_version = 1;
  string server = 2;
  repeated string backends = 3;
  bool auth_required = 4;
}

message SessionKey {
  string uid = 1;
  bytes psk = 2;
  string backend = 3;
}

service Gateway {
  rpc status (SessionQuery) returns (SessionStatus);
  rpc list (ListQuery) returns (SessionList);
  rpc metrics (SessionQuery) returns (SessionMetrics);
  rpc version (VersionQuery) returns (VersionInfo);
  // Hands the producer gateway's per-session data-channel key to the consumer gateway; callable
  // only with the session owner's token, over the TLS control channel.
  rpc sessionKey (SessionQuery) returns (SessionKey);
}
`;
