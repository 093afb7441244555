"""Runs cells in a real Pilot-Streaming kernel through jupyter_client and prints what came back.

usage: python kernel_session.py <kernel main.js> <cells.json>
Each cell's text may use {pilot_id}: the first pilot id seen in any earlier output.
A cell that is exactly RESTART_KERNEL is no cell: the kernel process is shut down and a new one
started (a new process, as a kernel restart does); its result is {"status": "restarted"}.
A cell may be {"code": ..., "interrupt_when": <regex>}: once an output of that cell matches the
regex, the kernel is interrupted as Jupyter interrupts it (an interrupt_request on the control
channel: its interrupt_mode is "message").
A cell may be {"complete" | "inspect" | "is_complete": code, "cursor_pos": n (default: the end)}:
that shell request is sent instead; its result is {"status", "outputs": [], "reply": <content>}.
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
RESTART_KERNEL = "RESTART_KERNEL"


def run_cell(client, code, timeout=240, interrupt_when=None, interrupt=None):
    msg_id = client.execute(code)
    outputs = []
    # Outputs of earlier cells that arrive while this one runs (e.g. a display still updated).
    late = []
    while True:
        message = client.get_iopub_msg(timeout=timeout)
        if message["parent_header"].get("msg_id") != msg_id:
            if message["msg_type"] in ("stream", "display_data", "update_display_data", "error"):
                late.append({"type": message["msg_type"], "content": message["content"]})
            continue
        kind = message["msg_type"]
        if kind == "status":
            if message["content"]["execution_state"] == "idle":
                break
            continue
        if kind in ("stream", "display_data", "update_display_data", "execute_result", "error"):
            outputs.append({"type": kind, "content": message["content"]})
            shown = json.dumps(message["content"])
            if interrupt_when is not None and re.search(interrupt_when, shown):
                interrupt_when = None
                interrupt()
    # Skip replies to other requests (wait_for_ready may have sent several kernel_info requests).
    reply = client.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = client.get_shell_msg(timeout=timeout)
    return {"status": reply["content"]["status"], "outputs": outputs, "late": late}


def run_request(client, request, timeout=60):
    """A complete, inspect or is_complete request and its reply."""
    kind = next(key for key in ("complete", "inspect", "is_complete") if key in request)
    code = request[kind]
    if kind == "is_complete":
        msg_id = client.is_complete(code)
    else:
        method = client.complete if kind == "complete" else client.inspect
        msg_id = method(code, request.get("cursor_pos", len(code)))
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            content = reply["content"]
            return {"status": content.get("status"), "outputs": [], "reply": content}


class KernelProcess:
    """A kernel process with its own connection file and a client on it."""

    def __init__(self, main_js, directory, number):
        self.connection_file, _ = write_connection_file(
            fname=os.path.join(directory, f"kernel-{number}.json"),
            ip="127.0.0.1",
            key=os.urandom(32).hex().encode(),
        )
        self.process = subprocess.Popen(["node", main_js, self.connection_file])
        self.client = BlockingKernelClient(connection_file=self.connection_file)
        self.client.load_connection_file()
        self.client.start_channels()
        try:
            self.client.wait_for_ready(timeout=60)
        except BaseException:
            # A kernel that misses heartbeats under load is reported dead but may still run.
            self.stop()
            raise

    def stop(self):
        try:
            self.client.shutdown()
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        finally:
            self.client.stop_channels()
            os.remove(self.connection_file)


def main():
    main_js, cells_file = sys.argv[1], sys.argv[2]
    with open(cells_file, encoding="utf8") as handle:
        cells = json.load(handle)
    directory = tempfile.mkdtemp(prefix="pilot-kernel-session-")
    results = []
    kernel = None
    try:
        kernel = KernelProcess(main_js, directory, 1)
        pilot_id = None
        for cell in cells:
            if cell == RESTART_KERNEL:
                kernel.stop()
                kernel = None
                kernel = KernelProcess(main_js, directory, len(results) + 1)
                results.append({"status": "restarted", "outputs": []})
                continue
            if isinstance(cell, dict) and "code" not in cell:
                results.append(run_request(kernel.client, cell))
                continue
            spec = cell if isinstance(cell, dict) else {"code": cell}
            code = spec["code"].replace("{pilot_id}", pilot_id or "{pilot_id}")
            result = run_cell(
                kernel.client,
                code,
                interrupt_when=spec.get("interrupt_when"),
                interrupt=lambda: kernel.client.control_channel.send(
                    kernel.client.session.msg("interrupt_request", {})
                ),
            )
            results.append(result)
            if pilot_id is None:
                match = PILOT_ID.search(json.dumps(result["outputs"]))
                pilot_id = match.group(0) if match else None
    finally:
        if kernel is not None:
            kernel.stop()
        os.rmdir(directory)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
