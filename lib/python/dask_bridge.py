"""The Python half of a Pilot-Streaming DaskContext: one distributed.Client, driven over stdio.

Each line on stdin is a JSON request {"id", "op", ...}; each answer is one JSON line on stdout,
{"id", "ok": true, "value"} or {"id", "ok": false, "error": {"type", "message", "traceback"}}.
The bridge ends at end of input (its TypeScript side closed it or went away).

    python dask_bridge.py ADDRESS CA_FILE CERT_FILE KEY_FILE
"""

import importlib
import json
import os
import sys
import traceback

import distributed
from distributed import Client
from distributed.security import Security

CONNECT_TIMEOUT_S = 30


def load_function(spec):
    """A callable from "package.module:name" or from {"code", "name"} (Python source)."""
    if isinstance(spec, str):
        module_name, _, qualified = spec.partition(":")
        if not module_name or not qualified:
            raise ValueError(f'expected "module:function", got {spec!r}')
        value = importlib.import_module(module_name)
        for part in qualified.split("."):
            value = getattr(value, part)
        return value
    code, name = spec["code"], spec["name"]
    # A module name nothing can import: cloudpickle then ships the function by value.
    namespace = {"__name__": "__pilot_streaming_cell__"}
    SOURCES[name] = code.splitlines()
    exec(compile(code, f"<{name}>", "exec"), namespace)
    if name not in namespace:
        raise NameError(f"the code defines no {name!r}")
    return namespace[name]


class Bridge:
    def __init__(self, client):
        self.client = client
        self.futures = {}

    def keep(self, future):
        self.futures[future.key] = future
        return future.key

    def held(self, keys):
        missing = [key for key in keys if key not in self.futures]
        if missing:
            raise KeyError(f"no such future (released, or from another bridge): {missing[0]}")
        return [self.futures[key] for key in keys]

    def info(self, request):
        info = self.client.scheduler_info()
        workers = [
            {
                "address": address,
                "name": str(worker.get("name")),
                "nthreads": worker.get("nthreads"),
                "memoryLimit": worker.get("memory_limit"),
            }
            for address, worker in info.get("workers", {}).items()
        ]
        return {"address": info.get("address"), "workers": workers}

    def submit(self, request):
        function = load_function(request["function"])
        future = self.client.submit(
            function, *request.get("args", []), pure=False, **request.get("kwargs", {})
        )
        return self.keep(future)

    def map(self, request):
        function = load_function(request["function"])
        return [self.keep(f) for f in self.client.map(function, request["items"], pure=False)]

    def gather(self, request):
        return self.client.gather(self.held(request["futures"]))

    def consume_kafka(self, request):
        """Reads a Kafka topic from its beginning and hands each batch of values (text) to
        `function` as a task, until `max_messages` were read or none came for `idle_seconds`;
        returns the counts and each batch's result, in order."""
        from kafka import KafkaConsumer

        function = load_function(request["function"])
        tls = request.get("tls")
        consumer = KafkaConsumer(
            request["topic"],
            bootstrap_servers=request["bootstrapServers"],
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            **(
                {
                    "security_protocol": "SSL",
                    "ssl_cafile": tls["ca"],
                    "ssl_certfile": tls["cert"],
                    "ssl_keyfile": tls["key"],
                }
                if tls
                else {}
            ),
        )
        batch_size = request.get("batchSize", 100)
        max_messages = request.get("maxMessages")
        idle_ms = int(request.get("idleSeconds", 10) * 1000)
        futures, batch, read = [], [], 0
        try:
            while max_messages is None or read < max_messages:
                polled = consumer.poll(timeout_ms=idle_ms, max_records=batch_size)
                if not polled:
                    break
                for records in polled.values():
                    for record in records:
                        batch.append(record.value.decode("utf-8"))
                        read += 1
                        if len(batch) == batch_size:
                            futures.append(self.client.submit(function, batch, pure=False))
                            batch = []
            if batch:
                futures.append(self.client.submit(function, batch, pure=False))
        finally:
            consumer.close()
        return {
            "messages": read,
            "batches": len(futures),
            "results": self.client.gather(futures),
        }

    def release(self, request):
        for future in self.held(request["futures"]):
            del self.futures[future.key]
            future.release()
        return None


# The source of each function sent as code, by name: a task's frames name their file
# "<dynamic-code>" once shipped to a worker, so their lines are found here.
SOURCES = {}
BRIDGE_FILE = os.path.abspath(__file__)
DISTRIBUTED_DIR = os.path.dirname(os.path.abspath(distributed.__file__))


def format_traceback(exception):
    """The traceback of the user's code: frames of this bridge and of distributed left out."""
    frames = traceback.extract_tb(exception.__traceback__)
    own = [
        frame
        for frame in frames
        if os.path.abspath(frame.filename) != BRIDGE_FILE
        and not os.path.abspath(frame.filename).startswith(DISTRIBUTED_DIR)
    ]
    lines = ["Traceback (most recent call last):\n"]
    for frame in own or frames:
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n')
        source = frame.line
        if not source and frame.name in SOURCES:
            code_lines = SOURCES[frame.name]
            if 0 < frame.lineno <= len(code_lines):
                source = code_lines[frame.lineno - 1].strip()
        if source:
            lines.append(f"    {source}\n")
    lines.extend(traceback.format_exception_only(exception))
    return "".join(lines)


def error_of(exception):
    return {
        "type": type(exception).__name__,
        "message": str(exception),
        "traceback": format_traceback(exception),
    }


def answer(request_id, **fields):
    try:
        line = json.dumps({"id": request_id, **fields})
    except (TypeError, ValueError) as exception:
        line = json.dumps(
            {"id": request_id, "ok": False, "error": error_of(TypeError(f"the result is not JSON: {exception}"))}
        )
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main():
    address, ca_file, cert_file, key_file = sys.argv[1:5]
    security = Security(
        tls_ca_file=ca_file,
        tls_client_cert=cert_file,
        tls_client_key=key_file,
        require_encryption=True,
    )
    with Client(address, security=security, timeout=CONNECT_TIMEOUT_S) as client:
        bridge = Bridge(client)
        answer(None, ok=True, value="ready")
        operations = {
            "info": bridge.info,
            "submit": bridge.submit,
            "map": bridge.map,
            "gather": bridge.gather,
            "release": bridge.release,
            "consumeKafka": bridge.consume_kafka,
        }
        for line in sys.stdin:
            request = json.loads(line)
            operation = operations.get(request.get("op"))
            try:
                if operation is None:
                    raise ValueError(f"unknown operation {request.get('op')!r}")
                answer(request["id"], ok=True, value=operation(request))
            except Exception as exception:  # reported to the caller, with its traceback
                answer(request["id"], ok=False, error=error_of(exception))


if __name__ == "__main__":
    main()
