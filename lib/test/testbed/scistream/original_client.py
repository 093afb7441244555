"""Acts as scistream-proto's original S2UC: stubs generated from its proto, the token sent as it
does (metadata "authorization" holding the raw token, no "Bearer"), uuid1 session ids.

usage: original_client.py STUBS_DIR CA_FILE inbound  PROD_S2CS NUM_CONN PROD_LISTENER...
       original_client.py STUBS_DIR CA_FILE outbound CONS_S2CS NUM_CONN UID PROD_GW_LISTENER...
       original_client.py STUBS_DIR CA_FILE release  S2CS UID
The token comes from $SCISTREAM_TOKEN; results are printed as one JSON line.
"""

import json
import os
import sys
import threading
import time
import uuid

import grpc

sys.path.insert(0, sys.argv[1])
import scistream_pb2  # noqa: E402
import scistream_pb2_grpc  # noqa: E402


def stub(address):
    with open(sys.argv[2], "rb") as ca:
        credentials = grpc.ssl_channel_credentials(ca.read())
    channel = grpc.secure_channel(address, credentials)
    return scistream_pb2_grpc.ControlStub(channel), channel


def metadata():
    return (("authorization", os.environ["SCISTREAM_TOKEN"]),)


def inbound(address, num_conn, prod_listeners):
    control, channel = stub(address)
    uid = str(uuid.uuid1())
    result = {}

    def request():
        result["req"] = control.req(
            scistream_pb2.Request(uid=uid, role="PROD", num_conn=num_conn, rate=10000),
            metadata=metadata(),
            timeout=60,
        )

    # As the original: req blocks on the server until the producer's hello arrives.
    waiting = threading.Thread(target=request)
    waiting.start()
    time.sleep(0.2)
    control.hello(
        scistream_pb2.Hello(uid=uid, prod_listeners=prod_listeners, role="PROD"),
        metadata=metadata(),
        timeout=60,
    )
    waiting.join(60)
    response = result["req"]
    update = control.update(
        scistream_pb2.UpdateTargets(
            uid=uid, remote_listeners=list(response.prod_listeners), role="PROD"
        ),
        metadata=metadata(),
        timeout=60,
    )
    channel.close()
    return {"uid": uid, "listeners": list(update.listeners), "prod_listeners": list(response.prod_listeners)}


def outbound(address, num_conn, uid, prod_gateway_listeners):
    control, channel = stub(address)
    control.req(
        scistream_pb2.Request(uid=uid, role="CONS", num_conn=num_conn, rate=10000),
        metadata=metadata(),
        timeout=60,
    )
    update = control.update(
        scistream_pb2.UpdateTargets(uid=uid, remote_listeners=prod_gateway_listeners, role="CONS"),
        metadata=metadata(),
        timeout=60,
    )
    channel.close()
    return {"uid": uid, "listeners": list(update.listeners)}


def release(address, uid):
    control, channel = stub(address)
    response = control.release(scistream_pb2.Release(uid=uid), metadata=metadata(), timeout=60)
    channel.close()
    return {"uid": uid, "listeners": list(response.listeners)}


def main():
    command, address = sys.argv[3], sys.argv[4]
    if command == "inbound":
        out = inbound(address, int(sys.argv[5]), sys.argv[6:])
    elif command == "outbound":
        out = outbound(address, int(sys.argv[5]), sys.argv[6], sys.argv[7:])
    elif command == "release":
        out = release(address, sys.argv[5])
    else:
        raise SystemExit(f"unknown command {command!r}: expected inbound, outbound or release")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
