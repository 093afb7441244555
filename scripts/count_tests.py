"""Prints "<passed> <failed>" for one test report, so test.sh can count tests, not suites;
with --failed, prints the names of the failed tests instead, each followed by the first lines
of why it failed, indented (the summary lists them, as CI logs often keep only their end).

Usage: python3 count_tests.py [--failed] vitest|pytest|playwright REPORT_FILE
"""

import json
import os
import re
import sys
import xml.etree.ElementTree as ElementTree


WHY_LINES = 8
WHY_WIDTH = 240
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def failure(name, message):
    """A failed test's name with the first lines of its message, indented."""
    lines = [line.rstrip() for line in ANSI.sub("", message or "").splitlines() if line.strip()]
    return "\n".join([name] + [f"    {line[:WHY_WIDTH]}" for line in lines[:WHY_LINES]])


def vitest(path):
    # Vitest's JSON reporter uses Jest's result shape. A file that fails to load counts as a
    # failed suite without failed tests, so count it too.
    report = json.load(open(path, encoding="utf-8"))
    failed = []
    for result in report.get("testResults", []):
        tests = result.get("assertionResults", [])
        failed += [
            failure(f"{os.path.relpath(result['name'])} › {t['fullName']}", "\n".join(t.get("failureMessages", [])))
            for t in tests
            if t.get("status") == "failed"
        ]
        if result.get("status") == "failed" and not any(t.get("status") == "failed" for t in tests):
            failed.append(failure(f"{os.path.relpath(result['name'])} (did not load or run)", result.get("message")))
    return report["numPassedTests"], failed


def pytest(path):
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    passed, failed = 0, []
    for suite in suites:
        for case in suite.iter("testcase"):
            problem = case.find("failure") if case.find("failure") is not None else case.find("error")
            if problem is not None:
                why = problem.get("message") or problem.text
                failed.append(failure(f"{case.get('classname')}::{case.get('name')}", why))
            elif case.find("skipped") is None:
                passed += 1
    return passed, failed


def playwright(path):
    report = json.load(open(path, encoding="utf-8"))
    stats = report["stats"]
    failed = []

    def visit(suite, titles):
        titles = titles + [suite["title"]] if suite.get("title") else titles
        for spec in suite.get("specs", []):
            for test in spec.get("tests", []):
                if test.get("status") == "unexpected":
                    errors = [r.get("error", {}).get("message", "") for r in test.get("results", [])]
                    failed.append(failure(" › ".join(titles + [spec["title"]]), (errors or [""])[-1]))
        for child in suite.get("suites", []):
            visit(child, titles)

    for suite in report.get("suites", []):
        visit(suite, [])
    # A run that broke before any test (e.g. the web server did not start) lists errors.
    failed += [f"error: {error.get('message', '')[:200]}" for error in report.get("errors", [])]
    return stats["expected"] + stats["flaky"], failed


def main():
    arguments = sys.argv[1:]
    names_only = arguments[:1] == ["--failed"]
    kind, path = arguments[1:3] if names_only else arguments[:2]
    readers = {"vitest": vitest, "pytest": pytest, "playwright": playwright}
    if kind not in readers:
        sys.exit(f"report kind {kind!r} is not one of {sorted(readers)}")
    passed, failed = readers[kind](path)
    if names_only:
        print("\n".join(failed))
    else:
        print(passed, len(failed))


if __name__ == "__main__":
    main()
