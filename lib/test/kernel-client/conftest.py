"""Fixtures: the real kernel (installed as a kernelspec by our CLI) driven by jupyter_client."""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from queue import Empty

import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.session import Session

LIB = Path(__file__).resolve().parents[2]
CLI = LIB / "dist" / "cli" / "main.js"
KERNEL_NAME = "pilot-streaming"


@pytest.fixture(scope="session")
def kernel_prefix():
    """A private prefix holding our kernelspec, installed with `pilot-streaming kernel install`."""
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: build the library first (npm run build -w lib)")
    prefix = Path(tempfile.mkdtemp(prefix="ps-kernelspec-"))
    try:
        subprocess.run(
            ["node", str(CLI), "kernel", "install", "--prefix", str(prefix),
             "--env", "PS_KERNEL_TEST=from-kernelspec"],
            check=True, capture_output=True, text=True, timeout=60,
        )
        yield prefix
    finally:
        shutil.rmtree(prefix, ignore_errors=False)


@pytest.fixture(scope="session")
def kernelspec_dir(kernel_prefix):
    return kernel_prefix / "share" / "jupyter" / "kernels" / KERNEL_NAME


def start_kernel(kernelspec_dir):
    spec_manager = KernelSpecManager(kernel_dirs=[str(kernelspec_dir.parent)])
    manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=spec_manager)
    manager.start_kernel(cwd=str(LIB))
    # A session of its own: message ids are "<session>_<pid>_<count>", so the manager's
    # interrupt_requests (interrupt_mode "message") would otherwise reuse the client's ids.
    client = manager.client(
        session=Session(key=manager.session.key, signature_scheme=manager.session.signature_scheme)
    )
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client


def stop_kernel(manager, client):
    client.stop_channels()
    if manager.is_alive():
        manager.shutdown_kernel(now=False)
    assert not manager.is_alive()


@pytest.fixture
def kernel(kernelspec_dir):
    """A fresh kernel per test (tests may interrupt it, break it or shut it down)."""
    manager, client = start_kernel(kernelspec_dir)
    try:
        yield manager, client
    finally:
        stop_kernel(manager, client)


@pytest.fixture
def kc(kernel):
    return kernel[1]


def iopub_until(client, msg_id, done, what, timeout=30):
    """iopub messages whose parent is msg_id, collected until done(messages) holds; fails naming
    `what` and the message types seen when that takes longer than `timeout` seconds."""
    messages = []
    deadline = time.monotonic() + timeout

    def timed_out():
        seen = [m["msg_type"] for m in messages]
        return AssertionError(f"no {what} for {msg_id} within {timeout} s; got {seen}")

    while not done(messages):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise timed_out()
        try:
            message = client.get_iopub_msg(timeout=remaining)
        except Empty:
            raise timed_out() from None
        if message["parent_header"].get("msg_id") == msg_id:
            messages.append(message)
    return messages


def iopub_until_idle(client, msg_id, timeout=30):
    """iopub messages whose parent is msg_id, up to and including its idle status."""

    def idle(messages):
        last = messages[-1] if messages else None
        return last is not None and last["msg_type"] == "status" and last["content"]["execution_state"] == "idle"

    return iopub_until(client, msg_id, idle, "idle status", timeout)


def iopub_for(client, msg_id, seconds):
    """iopub messages with parent msg_id arriving within `seconds`."""
    messages = []
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            message = client.get_iopub_msg(timeout=remaining)
        except Empty:
            break
        if message["parent_header"].get("msg_id") == msg_id:
            messages.append(message)
    return messages


def shell_reply(client, msg_id, timeout=30):
    reply = client.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = client.get_shell_msg(timeout=timeout)
    return reply


def execute(client, code, timeout=30, **options):
    """Runs code; returns (reply content, iopub messages of that request up to idle)."""
    msg_id = client.execute(code, **options)
    reply = shell_reply(client, msg_id, timeout)
    messages = iopub_until_idle(client, msg_id, timeout)
    return reply["content"], messages


def of_type(messages, msg_type):
    return [m for m in messages if m["msg_type"] == msg_type]


def result_text(messages):
    results = of_type(messages, "execute_result")
    assert len(results) == 1, [m["msg_type"] for m in messages]
    return results[0]["content"]["data"]["text/plain"]


def stream_text(messages, name="stdout"):
    return "".join(m["content"]["text"] for m in of_type(messages, "stream") if m["content"]["name"] == name)


def read_json(path):
    return json.loads(Path(path).read_text())


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
