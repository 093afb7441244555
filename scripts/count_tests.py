"""Prints "<passed> <failed>" for one test report, so test.sh can count tests, not suites.

Usage: python3 count_tests.py vitest|pytest|playwright REPORT_FILE
"""

import json
import sys
import xml.etree.ElementTree as ElementTree


def vitest(path):
    # Vitest's JSON reporter uses Jest's result shape. A file that fails to load counts as a
    # failed suite without failed tests, so count it too.
    report = json.load(open(path, encoding="utf-8"))
    failed_files = sum(
        1
        for result in report.get("testResults", [])
        if result.get("status") == "failed"
        and not any(t.get("status") == "failed" for t in result.get("assertionResults", []))
    )
    return report["numPassedTests"], report["numFailedTests"] + failed_files


def pytest(path):
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    passed = failed = 0
    for suite in suites:
        total = int(suite.get("tests", 0))
        bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        passed += total - bad - int(suite.get("skipped", 0))
        failed += bad
    return passed, failed


def playwright(path):
    report = json.load(open(path, encoding="utf-8"))
    stats = report["stats"]
    # A run that broke before any test (e.g. the web server did not start) lists errors.
    return stats["expected"] + stats["flaky"], stats["unexpected"] + len(report.get("errors", []))


def main():
    kind, path = sys.argv[1], sys.argv[2]
    readers = {"vitest": vitest, "pytest": pytest, "playwright": playwright}
    if kind not in readers:
        sys.exit(f"report kind {kind!r} is not one of {sorted(readers)}")
    passed, failed = readers[kind](path)
    print(passed, failed)


if __name__ == "__main__":
    main()
