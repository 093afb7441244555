"""Wire protocol behaviour: channels, status, signatures, comms, interrupt, shutdown."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from queue import Empty

from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file
from jupyter_client.session import Session

from conftest import (
    LIB,
    execute,
    iopub_for,
    iopub_until,
    iopub_until_idle,
    of_type,
    pid_alive,
    read_json,
    result_text,
    shell_reply,
    start_kernel,
    stop_kernel,
)


def control_request(client, msg_type, content=None, timeout=30):
    message = client.session.msg(msg_type, content or {})
    client.control_channel.send(message)
    reply = client.get_control_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != message["header"]["msg_id"]:
        reply = client.get_control_msg(timeout=timeout)
    return message["header"]["msg_id"], reply


def shell_request(client, msg_type, content=None):
    message = client.session.msg(msg_type, content or {})
    client.shell_channel.send(message)
    return message["header"]["msg_id"]


def descendants(pid):
    """Pids of all processes below pid (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except FileNotFoundError:
                continue  # the process ended while we listed
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def assert_busy_idle(messages):
    states = [m["content"]["execution_state"] for m in of_type(messages, "status")]
    assert states == ["busy", "idle"], states


def test_kernelspec_written_by_cli(kernelspec_dir):
    spec = read_json(kernelspec_dir / "kernel.json")
    node, main, connection = spec["argv"]
    assert os.path.isabs(node) and os.access(node, os.X_OK)
    assert os.path.isabs(main) and main.endswith(os.path.join("dist", "kernel", "main.js"))
    assert os.path.exists(main)
    assert connection == "{connection_file}"
    assert spec["display_name"] == "TypeScript (Pilot-Streaming)"
    assert spec["language"] == "typescript"
    assert spec["interrupt_mode"] == "message"
    assert spec["env"] == {"PS_KERNEL_TEST": "from-kernelspec"}


def test_kernel_info_on_shell_and_control(kc):
    shell = kc.kernel_info(reply=True, timeout=30)
    busy_idle = iopub_until_idle(kc, shell["parent_header"]["msg_id"])
    assert_busy_idle(busy_idle)
    msg_id, control = control_request(kc, "kernel_info_request")
    assert_busy_idle(iopub_until_idle(kc, msg_id))
    for reply in (shell, control):
        content = reply["content"]
        assert reply["msg_type"] == "kernel_info_reply"
        assert content["status"] == "ok"
        assert content["protocol_version"] == "5.3"
        assert content["implementation"] == "pilot-streaming"
        info = content["language_info"]
        assert info["name"] == "typescript"
        assert info["file_extension"] == ".ts"
        assert info["mimetype"] == "text/typescript"


def test_environment_from_kernelspec(kc):
    _, messages = execute(kc, "process.env.PS_KERNEL_TEST")
    assert result_text(messages) == "'from-kernelspec'"


def test_busy_idle_around_every_shell_and_control_request(kc):
    for msg_type, content in [
        ("complete_request", {"code": "Ma", "cursor_pos": 2}),
        ("comm_info_request", {}),
        ("history_request", {"hist_access_type": "tail", "n": 1, "output": False, "raw": True}),
    ]:
        msg_id = shell_request(kc, msg_type, content)
        assert_busy_idle(iopub_until_idle(kc, msg_id))
        msg_id, _ = control_request(kc, msg_type, content)
        assert_busy_idle(iopub_until_idle(kc, msg_id))
    # Also for messages without a reply (comm_close of an unknown comm).
    msg_id = shell_request(kc, "comm_close", {"comm_id": "nope", "data": {}})
    assert_busy_idle(iopub_until_idle(kc, msg_id))


def shell_replies_to(client, msg_id, seconds):
    """Shell replies to `msg_id` within `seconds`; a late reply to an earlier request is no answer."""
    deadline = time.monotonic() + seconds
    replies = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = client.get_shell_msg(timeout=left)
        except Empty:
            break
        if message["parent_header"].get("msg_id") == msg_id:
            replies.append(message)
    return replies


def test_bad_signature_is_rejected_and_kernel_keeps_working(kc):
    forged = Session(key=b"not-the-kernel-key", username="mallory")
    message = forged.msg("execute_request", {
        "code": "globalThis.forgedRan = true; 1", "silent": False, "store_history": True,
        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True,
    })
    forged.send(kc.shell_channel.socket, message)
    msg_id = message["header"]["msg_id"]
    assert shell_replies_to(kc, msg_id, 2) == []
    assert [m for m in iopub_for(kc, msg_id, 0.5)] == []
    # An unsigned message is rejected too.
    unsigned = Session(key=b"", username="mallory")
    request = unsigned.msg("kernel_info_request", {})
    unsigned.send(kc.shell_channel.socket, request)
    assert shell_replies_to(kc, request["header"]["msg_id"], 1) == []

    reply, messages = execute(kc, "typeof (globalThis as any).forgedRan")
    assert reply["status"] == "ok"
    assert result_text(messages) == "'undefined'"


def test_interrupt_endless_synchronous_loop(kernel):
    manager, kc = kernel
    msg_id = kc.execute("let spins = 0;\nwhile (true) { spins++; }")
    # Wait until the loop runs (execute_input is published before the cell starts).
    iopub_until(kc, msg_id, lambda messages: of_type(messages, "execute_input"), "execute_input")
    time.sleep(0.5)
    manager.interrupt_kernel()
    reply = shell_reply(kc, msg_id, timeout=20)["content"]
    assert reply["status"] == "error"
    assert reply["ename"] == "KeyboardInterrupt"
    reply, messages = execute(kc, "spins > 0")
    assert reply["status"] == "ok" and result_text(messages) == "true"


def test_interrupt_awaiting_cell_by_signal_and_by_control(kernel):
    manager, kc = kernel
    msg_id = kc.execute("await new Promise(() => {});")
    time.sleep(0.5)
    manager.signal_kernel(signal.SIGINT)
    reply = shell_reply(kc, msg_id, timeout=20)["content"]
    assert reply["ename"] == "KeyboardInterrupt"

    # interrupt_request on control is handled while the shell is busy awaiting.
    msg_id = kc.execute("await new Promise(r => setTimeout(r, 60_000));")
    time.sleep(0.5)
    _, control = control_request(kc, "interrupt_request")
    assert control["content"]["status"] == "ok"
    reply = shell_reply(kc, msg_id, timeout=20)["content"]
    assert reply["ename"] == "KeyboardInterrupt"
    reply, messages = execute(kc, "'usable'")
    assert result_text(messages) == "'usable'"


def test_interrupt_loops_that_start_after_the_first_await(kernel):
    """Jupyter's interrupt (an interrupt_request: interrupt_mode "message") stops a synchronous loop
    wherever the cell's code runs it: after an await, in a function of an earlier cell, in a
    timer's callback, and a chain of promise callbacks. The kernel keeps its state."""
    manager, kc = kernel
    reply, _ = execute(
        kc,
        "let turns = 0;\n"
        "function spin() { for (;;) turns++; }\n"
        "const later = () => new Promise(r => setTimeout(r, 100));",
    )
    assert reply["status"] == "ok"
    for code in [
        "await later();\nwhile (true) { turns++; }",
        "await later();\nspin();",
        "await later();\nconst items = [1, 2, 3];\nfor (;;) for (const item of items) turns += item;",
        "await later();\ndo turns++; while (turns > 0);",
        # No loop: an endless chain of promise callbacks never lets the event loop run.
        "await later();\nconst step = () => { turns++; return Promise.resolve().then(step); };\n"
        "await step();",
    ]:
        before = result_text(execute(kc, "turns")[1])
        msg_id = kc.execute(code)
        time.sleep(1)
        manager.interrupt_kernel()
        reply = shell_reply(kc, msg_id, timeout=20)["content"]
        assert (reply["status"], reply.get("ename")) == ("error", "KeyboardInterrupt"), code
        assert int(result_text(execute(kc, "turns")[1])) > int(before), code

    # A runaway timer callback with no cell running is stopped too, and reported.
    reply, _ = execute(kc, "setTimeout(() => { while (true) turns++; }, 100); 'armed'")
    time.sleep(1)
    manager.interrupt_kernel()
    reply, messages = execute(kc, "'usable'", timeout=20)
    assert result_text(messages) == "'usable'"


def test_interrupts_in_quick_succession_keep_the_kernel_usable(kernel):
    """Interrupts land at any stage: before the cell starts, while it is transpiled, while it runs.
    An interrupt while idle is ignored (as in IPython), so keep interrupting until the reply."""
    manager, kc = kernel
    for _ in range(3):
        msg_id = kc.execute("while (true) {}")
        for _attempt in range(40):
            manager.interrupt_kernel()
            try:
                reply = shell_reply(kc, msg_id, timeout=0.05)["content"]
                break
            except Empty:
                continue
        else:
            raise AssertionError("the loop did not stop")
        assert reply["ename"] == "KeyboardInterrupt"
    _, messages = execute(kc, "'still fine'")
    assert result_text(messages) == "'still fine'"
    # Interrupts that arrived while idle did not leave a pending interrupt behind.
    reply, messages = execute(kc, "await new Promise(r => setTimeout(r, 200)); 'not interrupted'")
    assert result_text(messages) == "'not interrupted'"


def test_control_is_served_while_shell_executes(kc):
    msg_id = kc.execute("await new Promise(r => setTimeout(r, 1500)); 'slow'")
    time.sleep(0.3)
    started = time.monotonic()
    _, reply = control_request(kc, "kernel_info_request", timeout=5)
    assert reply["content"]["status"] == "ok"
    assert time.monotonic() - started < 1.0
    assert shell_reply(kc, msg_id)["content"]["status"] == "ok"


def test_comm_round_trip(kc):
    reply, _ = execute(
        kc,
        "var closedWith: unknown = 'open';\n"
        "kernel.registerCommTarget('test.echo', (comm, openData) => {\n"
        "  comm.send({ opened: openData });\n"
        "  comm.onMessage((data, buffers) => comm.send({ echo: data, buffers: buffers.length }));\n"
        "  comm.onClose(data => { closedWith = data; });\n"
        "});",
    )
    assert reply["status"] == "ok", reply
    comm_id = uuid.uuid4().hex
    open_id = shell_request(kc, "comm_open", {"comm_id": comm_id, "target_name": "test.echo", "data": {"hello": 1}})
    messages = iopub_until_idle(kc, open_id)
    [opened] = of_type(messages, "comm_msg")
    assert opened["content"] == {"comm_id": comm_id, "data": {"opened": {"hello": 1}}}

    info = kc.comm_info(target_name="test.echo", reply=True)["content"]
    assert info["comms"] == {comm_id: {"target_name": "test.echo"}}

    message_id = shell_request(kc, "comm_msg", {"comm_id": comm_id, "data": {"n": 2}})
    [echo] = of_type(iopub_until_idle(kc, message_id), "comm_msg")
    assert echo["content"]["data"] == {"echo": {"n": 2}, "buffers": 0}
    assert echo["parent_header"]["msg_id"] == message_id

    close_id = shell_request(kc, "comm_close", {"comm_id": comm_id, "data": {"bye": True}})
    iopub_until_idle(kc, close_id)
    assert kc.comm_info(reply=True)["content"]["comms"] == {}
    _, messages = execute(kc, "closedWith")
    assert result_text(messages) == "{ bye: true }"


def test_comm_open_to_unknown_target_is_closed(kc):
    comm_id = uuid.uuid4().hex
    msg_id = shell_request(kc, "comm_open", {"comm_id": comm_id, "target_name": "no.such.target", "data": {}})
    [closed] = of_type(iopub_until_idle(kc, msg_id), "comm_close")
    assert closed["content"]["comm_id"] == comm_id


def test_comm_opened_by_kernel(kc):
    reply, messages = execute(
        kc,
        "const fromKernel = kernel.openComm('frontend.target', { v: 1 });\n"
        "fromKernel.send({ step: 2 });\nfromKernel.close({ done: true });\nfromKernel.closed",
    )
    assert reply["status"] == "ok", reply
    [opened] = of_type(messages, "comm_open")
    assert opened["content"]["target_name"] == "frontend.target"
    assert opened["content"]["data"] == {"v": 1}
    comm_id = opened["content"]["comm_id"]
    [sent] = of_type(messages, "comm_msg")
    assert sent["content"] == {"comm_id": comm_id, "data": {"step": 2}}
    [closed] = of_type(messages, "comm_close")
    assert closed["content"]["data"] == {"done": True}
    assert result_text(messages) == "true"


def test_shutdown_runs_hooks_and_leaves_no_process(kernelspec_dir, tmp_path):
    manager, kc = start_kernel(kernelspec_dir)
    marker = tmp_path / "hook-ran"
    try:
        pid = manager.provisioner.process.pid
        # A cell makes sure the kernel has started its helper processes (the transpiler).
        reply, _ = execute(
            kc,
            f"kernel.onShutdown(async () => {{ require('node:fs').writeFileSync({str(marker)!r}, 'yes'); }});",
        )
        assert reply["status"] == "ok", reply
        helpers = descendants(pid)
        assert helpers, "expected the kernel to have a transpiler child process"
        msg_id, reply = control_request(kc, "shutdown_request", {"restart": False})
        assert reply["content"] == {"status": "ok", "restart": False}
        deadline = time.monotonic() + 10
        while manager.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not manager.is_alive()
        assert manager.provisioner.process.poll() == 0
        assert not pid_alive(pid)
        deadline = time.monotonic() + 5
        while any(pid_alive(child) for child in helpers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [child for child in helpers if pid_alive(child)]
        assert marker.read_text() == "yes"
    finally:
        stop_kernel(manager, kc)


def test_shutdown_reply_honours_restart_flag_and_restart_works(kernel):
    manager, kc = kernel
    old_pid = manager.provisioner.process.pid
    _, reply = control_request(kc, "shutdown_request", {"restart": True})
    assert reply["content"]["restart"] is True
    process = manager.provisioner.process
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() == 0
    manager.restart_kernel(now=False)
    kc.wait_for_ready(timeout=60)
    assert manager.provisioner.process.pid != old_pid
    reply, messages = execute(kc, "1 + 1")
    assert result_text(messages) == "2"


def test_sigint_while_idle_does_not_kill_the_kernel(kernel):
    manager, kc = kernel
    os.kill(manager.provisioner.process.pid, signal.SIGINT)
    time.sleep(0.3)
    reply, messages = execute(kc, "'alive'")
    assert result_text(messages) == "'alive'"


def _running(pid):
    """Whether the process runs (a zombie waiting for its reaper does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_kernel_ends_when_its_jupyter_server_is_killed(kernelspec_dir, tmp_path):
    """A server killed with SIGKILL cannot shut its kernels down: ours notices and ends."""
    spec = json.loads((kernelspec_dir / "kernel.json").read_text())
    connection_file, _ = write_connection_file(str(tmp_path / "kernel.json"))
    argv = [arg.replace("{connection_file}", connection_file) for arg in spec["argv"]]
    # A stand-in for the Jupyter server: it starts the kernel, then dies without a word.
    server = subprocess.Popen(
        [sys.executable, "-c",
         "import subprocess, sys, time\n"
         "kernel = subprocess.Popen(sys.argv[1:])\n"
         "print(kernel.pid, flush=True)\n"
         "time.sleep(600)\n",
         *argv],
        stdout=subprocess.PIPE, text=True, cwd=LIB, env={**os.environ, **spec.get("env", {})},
    )
    kernel_pid = int(server.stdout.readline())
    client = BlockingKernelClient(connection_file=connection_file)
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        server.kill()
        server.wait()
        killed_at = time.monotonic()
        while _running(kernel_pid) and time.monotonic() - killed_at < 10:
            time.sleep(0.1)
        assert not _running(kernel_pid), "the kernel still runs 10 s after its server was killed"
        print(f"kernel ended {time.monotonic() - killed_at:.1f} s after its server was killed")
    finally:
        client.stop_channels()
        server.stdout.close()
        if _running(kernel_pid):
            os.kill(kernel_pid, signal.SIGKILL)
