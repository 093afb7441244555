"""Executing TypeScript cells through jupyter_client against the real kernel."""

import re

from conftest import (
    execute,
    iopub_for,
    iopub_until,
    iopub_until_idle,
    of_type,
    result_text,
    shell_reply,
    stream_text,
)


def test_execute_typescript_and_persistence_across_cells(kc):
    reply, messages = execute(kc, "const answer: number = 41;\nanswer + 1")
    assert reply["status"] == "ok"
    assert result_text(messages) == "42"
    first_count = reply["execution_count"]
    [execute_input] = of_type(messages, "execute_input")
    assert execute_input["content"]["code"].startswith("const answer")

    reply, messages = execute(
        kc,
        "interface Point { x: number; y: number }\n"
        "let { x, y: [y1] } = { x: answer, y: [2] };\n"
        "function twice(v: number): number { return 2 * v; }\n"
        "class Box { constructor(readonly v: number) {} }\n"
        "var counter = 0;",
    )
    assert reply["status"] == "ok"
    assert reply["execution_count"] == first_count + 1
    assert of_type(messages, "execute_result") == []

    reply, messages = execute(kc, "x + y1 + twice(new Box(3).v) + counter")
    assert reply["status"] == "ok", reply
    assert result_text(messages) == str(41 + 2 + 6 + 0)

    # Re-running a declaring cell works (no "already declared" error).
    reply, _ = execute(kc, "const answer = 1; let x = 2; class Box {}")
    assert reply["status"] == "ok", reply


def test_top_level_await(kc):
    reply, messages = execute(
        kc, "const started = Date.now();\nawait new Promise(r => setTimeout(r, 300));\nDate.now() - started"
    )
    assert reply["status"] == "ok", reply
    assert int(result_text(messages)) >= 290
    reply, messages = execute(kc, "const v = await Promise.resolve('resolved'); v")
    assert result_text(messages) == "'resolved'"


def test_streams_and_silent_and_store_history(kc):
    reply, messages = execute(kc, "console.log('hello', { a: 1 }); console.error('oops'); 5")
    assert stream_text(messages, "stdout") == "hello { a: 1 }\n"
    assert stream_text(messages, "stderr") == "oops\n"
    count = reply["execution_count"]

    reply, messages = execute(kc, "console.log('quiet'); 7", silent=True)
    assert reply["status"] == "ok"
    assert reply["execution_count"] == count
    assert of_type(messages, "execute_input") == []
    assert of_type(messages, "execute_result") == []
    assert stream_text(messages) == "quiet\n"

    reply, _ = execute(kc, "8", store_history=False)
    assert reply["execution_count"] == count
    reply, _ = execute(kc, "9")
    assert reply["execution_count"] == count + 1


def test_error_with_stack_mapped_to_cell(kc):
    code = (
        "type Shape = { area(): number };\n"
        "function area(shape: Shape): number {\n"
        "  const broken: any = undefined;\n"
        "  return broken.area();\n"
        "}\n"
        "area({ area: () => 1 });\n"
    )
    reply, messages = execute(kc, code)
    assert reply["status"] == "error"
    assert reply["ename"] == "TypeError"
    assert "area" in reply["evalue"]
    [error] = of_type(messages, "error")
    assert error["content"]["ename"] == "TypeError"
    traceback = "\n".join(error["content"]["traceback"])
    count = reply["execution_count"]
    # Line 4 of the cell (not of the transpiled wrapper), then the caller on line 6.
    assert re.search(rf"at area \(<cell-{count}>:4:\d+\)", traceback), traceback
    assert re.search(rf"<cell-{count}>:6:\d+", traceback), traceback
    assert "return broken.area();" in traceback
    # Nothing of the kernel's own machinery in the user's traceback.
    assert "executor.js" not in traceback and "kernel.js" not in traceback


def test_error_in_function_from_an_earlier_cell(kc):
    reply, _ = execute(kc, "\n\nfunction fail(): never {\n  throw new RangeError('too far');\n}")
    assert reply["status"] == "ok"
    defining = reply["execution_count"]
    reply, _ = execute(kc, "fail()")
    assert reply["ename"] == "RangeError" and reply["evalue"] == "too far"
    traceback = "\n".join(reply["traceback"])
    assert f"<cell-{defining}>:4:" in traceback, traceback
    assert f"<cell-{reply['execution_count']}>:1:" in traceback, traceback


def test_syntax_error_reports_line_and_column(kc):
    reply, messages = execute(kc, "const ok = 1;\nconst bad = (1 + ;\n")
    assert reply["status"] == "error"
    assert reply["ename"] == "SyntaxError"
    assert "(2:18)" in reply["evalue"], reply["evalue"]
    assert of_type(messages, "error")


def test_thrown_non_error_value(kc):
    reply, _ = execute(kc, "throw 'plain string'")
    assert reply["status"] == "error"
    assert reply["ename"] == "Uncaught"
    assert reply["evalue"] == "'plain string'"


def test_stop_on_error_aborts_queued_executions(kc):
    failing = kc.execute("await new Promise(r => setTimeout(r, 300)); throw new Error('first fails')")
    queued = kc.execute("console.log('must not run')")
    assert shell_reply(kc, failing)["content"]["status"] == "error"
    reply = shell_reply(kc, queued)
    assert reply["content"]["status"] == "aborted"
    # Afterwards the kernel runs cells again.
    reply, messages = execute(kc, "'after'")
    assert reply["status"] == "ok" and result_text(messages) == "'after'"

    # stop_on_error=False: the next cell runs.
    failing = kc.execute("throw new Error('no abort')", stop_on_error=False)
    following = kc.execute("'ran'")
    assert shell_reply(kc, failing)["content"]["status"] == "error"
    assert shell_reply(kc, following)["content"]["status"] == "ok"


def test_import_packages_and_require(kc):
    reply, messages = execute(
        kc,
        "import { Kafka } from 'kafkajs';\n"
        "import * as path from 'node:path';\n"
        "import fs from 'fs';\n"
        "const { z } = await import('zod');\n"
        "const cp = require('node:child_process');\n"
        "[typeof Kafka, path.basename('/a/b.ts'), typeof fs.readFileSync, typeof z.object, typeof cp.spawn]",
    )
    assert reply["status"] == "ok", reply
    assert result_text(messages) == "[ 'function', 'b.ts', 'function', 'function', 'function' ]"
    reply, messages = execute(kc, "typeof Kafka")
    assert result_text(messages) == "'function'"


def test_unknown_module_is_a_clear_error(kc):
    reply, _ = execute(kc, "import x from 'no-such-package-here';")
    assert reply["status"] == "error"
    assert "no-such-package-here" in reply["evalue"]


def test_display_bundle_and_values(kc):
    reply, messages = execute(
        kc,
        "display({ 'text/html': '<b>bold</b>', 'text/plain': 'bold' });\n"
        "display([1, 2]);\n"
        "display({ notAMime: 1 });",
    )
    assert reply["status"] == "ok"
    displays = of_type(messages, "display_data")
    assert displays[0]["content"]["data"] == {"text/html": "<b>bold</b>", "text/plain": "bold"}
    assert displays[1]["content"]["data"] == {"text/plain": "[ 1, 2 ]"}
    assert displays[2]["content"]["data"] == {"text/plain": "{ notAMime: 1 }"}
    assert of_type(messages, "execute_result") == []


def test_rich_result_via_symbol(kc):
    reply, messages = execute(
        kc,
        "const richValue = { [Symbol.for('pilot-streaming.toMimeBundle')]() {"
        " return { 'text/html': '<i>rich</i>' }; } };\nrichValue",
    )
    assert reply["status"] == "ok", reply
    [result] = of_type(messages, "execute_result")
    assert result["content"]["data"]["text/html"] == "<i>rich</i>"
    assert "text/plain" in result["content"]["data"]


def test_broken_rich_value_and_bad_requests_still_get_replies(kc):
    reply, messages = execute(
        kc, "({ [Symbol.for('pilot-streaming.toMimeBundle')]() { return 'not a bundle'; } })"
    )
    assert reply["status"] == "error"
    assert reply["ename"] == "TypeError" and "expected an object keyed by MIME types" in reply["evalue"]
    assert of_type(messages, "error")

    history = kc.history(hist_access_type="bogus", reply=True)["content"]
    assert history["status"] == "error"
    assert '"bogus"' in history["evalue"]


def test_update_display_data_from_timer_after_execute_finished(kc):
    msg_id = kc.execute(
        "const handle = display('tick 0', { displayId: 'ticker' });\n"
        "let ticks = 0;\n"
        "const timer = setInterval(() => {\n"
        "  handle.update('tick ' + ++ticks);\n"
        "  if (ticks === 3) { clearInterval(timer); console.log('timer done'); }\n"
        "}, 200);"
    )
    assert shell_reply(kc, msg_id)["content"]["status"] == "ok"

    during = iopub_until_idle(kc, msg_id)
    [shown] = of_type(during, "display_data")
    assert shown["content"]["transient"]["display_id"] == "ticker"
    assert of_type(during, "update_display_data") == []  # the cell finished before any tick

    later = iopub_for(kc, msg_id, 2.0)
    updates = of_type(later, "update_display_data")
    assert [u["content"]["data"]["text/plain"] for u in updates] == ["'tick 1'", "'tick 2'", "'tick 3'"]
    for update in updates:
        assert update["parent_header"]["msg_id"] == msg_id
        assert update["content"]["transient"]["display_id"] == "ticker"
    # Output of the timer is attributed to the cell that started it, too.
    assert stream_text(later) == "timer done\n"


def test_late_output_goes_to_the_cell_that_started_it(kc):
    first = kc.execute("setTimeout(() => console.log('from first'), 600);")
    shell_reply(kc, first)
    second = kc.execute("console.log('second');")
    shell_reply(kc, second)
    messages = iopub_until(
        kc,
        first,
        lambda messages: any("from first" in m["content"]["text"] for m in of_type(messages, "stream")),
        "output of the first cell",
        timeout=3,
    )
    late = of_type(messages, "stream")
    assert late and late[0]["content"]["text"] == "from first\n"


def test_magics_run_in_order_with_code(kc):
    reply, _ = execute(
        kc,
        "kernel.registerLineMagic('record', async (args) => { (globalThis as any).log.push('magic:' + args); return args.toUpperCase(); });\n"
        "var log: string[] = [];",
    )
    assert reply["status"] == "ok", reply
    reply, messages = execute(kc, "log.push('before');\n%record one two\nlog.push('after');\n%record last")
    assert reply["status"] == "ok", reply
    assert result_text(messages) == "'LAST'"
    reply, messages = execute(kc, "log")
    assert result_text(messages) == "[ 'before', 'magic:one two', 'after', 'magic:last' ]"
    reply, _ = execute(kc, "%nosuchmagic x")
    assert reply["status"] == "error" and reply["ename"] == "UsageError"
    assert "%nosuchmagic" in reply["evalue"]


def test_cell_magic_gets_the_whole_cell(kc):
    reply, _ = execute(
        kc,
        "kernel.registerCellMagic('upper', async (args, body) => `${args}:${body.toUpperCase()}`);",
    )
    assert reply["status"] == "ok", reply
    reply, messages = execute(kc, "%%upper tag\nline one\nline two")
    assert reply["status"] == "ok", reply
    assert result_text(messages) == "'tag:LINE ONE\\nLINE TWO'"
    reply, _ = execute(kc, "%%nosuchcellmagic\nx")
    assert reply["ename"] == "UsageError" and "%%nosuchcellmagic" in reply["evalue"]


def test_complete_inspect_is_complete_history(kc):
    execute(kc, "const myVariable = { alpha: 1, beta: 2 };")
    reply = kc.complete("myVa", 4, reply=True)["content"]
    assert reply["status"] == "ok"
    assert "myVariable" in reply["matches"]
    assert (reply["cursor_start"], reply["cursor_end"]) == (0, 4)
    reply = kc.complete("x = myVariable.al", 17, reply=True)["content"]
    assert reply["matches"] == ["alpha"]
    assert reply["cursor_start"] == 15
    reply = kc.complete("Math.flo", 8, reply=True)["content"]
    assert "floor" in reply["matches"]

    reply = kc.inspect("myVariable", 3, reply=True)["content"]
    assert reply["found"] is True
    assert "alpha: 1" in reply["data"]["text/plain"]
    assert kc.inspect("notDefinedAnywhere", 3, reply=True)["content"]["found"] is False

    def is_complete(code):
        return shell_reply(kc, kc.is_complete(code))["content"]["status"]

    assert is_complete("let a = (1 +") == "incomplete"
    indent_reply = shell_reply(kc, kc.is_complete("if (a) {\n  for (;;) {"))["content"]
    assert indent_reply == {"status": "incomplete", "indent": "    "}
    assert is_complete("for (const x of [1]) {\n  console.log(x);") == "incomplete"
    assert is_complete("let a = 1;") == "complete"
    assert is_complete("let a = );") == "invalid"
    assert is_complete("%pilot list") == "complete"

    execute(kc, "1 + 1")
    history = kc.history(hist_access_type="tail", n=2, reply=True)["content"]["history"]
    assert [entry[2] for entry in history] == ["const myVariable = { alpha: 1, beta: 2 };", "1 + 1"]


def test_input_request(kc):
    msg_id = kc.execute("const name = await input('Name? '); 'hi ' + name", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=30)
    assert request["msg_type"] == "input_request"
    assert request["content"]["prompt"] == "Name? "
    assert request["parent_header"]["msg_id"] == msg_id
    kc.input("Ada")
    assert shell_reply(kc, msg_id)["content"]["status"] == "ok"

    assert result_text(iopub_until_idle(kc, msg_id)) == "'hi Ada'"

    reply, _ = execute(kc, "await input('x')", allow_stdin=False)
    assert reply["status"] == "error" and "allow_stdin" in reply["evalue"]
