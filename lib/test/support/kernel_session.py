"""Runs cells in a real Pilot-Streaming kernel through jupyter_client and prints what came back.

usage: python kernel_session.py <kernel main.js> <cells.json>
Each cell's text may use {pilot_id}: the first pilot id seen in any earlier output.
Prints one JSON list: per cell, the execute_reply status and the iopub messages of that cell.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

PILOT_ID = re.compile(r"pilot-[a-z0-9]{12}")


def run_cell(client, code, timeout=240):
    msg_id = client.execute(code)
    outputs = []
    while True:
        message = client.get_iopub_msg(timeout=timeout)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        kind = message["msg_type"]
        if kind == "status":
            if message["content"]["execution_state"] == "idle":
                break
            continue
        if kind in ("stream", "display_data", "update_display_data", "execute_result", "error"):
            outputs.append({"type": kind, "content": message["content"]})
    reply = client.get_shell_msg(timeout=timeout)
    return {"status": reply["content"]["status"], "outputs": outputs}


def main():
    main_js, cells_file = sys.argv[1], sys.argv[2]
    with open(cells_file, encoding="utf8") as handle:
        cells = json.load(handle)
    directory = tempfile.mkdtemp(prefix="pilot-kernel-session-")
    connection_file, _ = write_connection_file(
        fname=os.path.join(directory, "connection.json"),
        ip="127.0.0.1",
        key=os.urandom(32).hex().encode(),
    )
    kernel = subprocess.Popen(["node", main_js, connection_file])
    client = BlockingKernelClient(connection_file=connection_file)
    client.load_connection_file()
    client.start_channels()
    results = []
    try:
        client.wait_for_ready(timeout=60)
        pilot_id = None
        for cell in cells:
            code = cell.replace("{pilot_id}", pilot_id or "{pilot_id}")
            result = run_cell(client, code)
            results.append(result)
            if pilot_id is None:
                match = PILOT_ID.search(json.dumps(result["outputs"]))
                pilot_id = match.group(0) if match else None
    finally:
        client.shutdown()
        try:
            kernel.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kernel.kill()
            kernel.wait()
        client.stop_channels()
        os.remove(connection_file)
        os.rmdir(directory)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
