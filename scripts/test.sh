#!/usr/bin/env bash
# `npm test`: installs whatever is missing (Debian packages when root, npm packages, the venv,
# Kafka, builds), then runs every suite, even after one fails, and prints a summary that ends
# with "N passed, N failed" (tests, from each runner's machine-readable report).
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$REPO_ROOT"

# Debian packages the tests need: Chromium for the JupyterLab UI tests (fonts for its
# screenshots), and what the testbeds list beside their code (sshd, SLURM, munge, proxies...).
DEBIAN_PACKAGES=(chromium fonts-liberation)
mapfile -t -O "${#DEBIAN_PACKAGES[@]}" DEBIAN_PACKAGES < <(testbed_debian_packages)

# Short: Unix socket paths below it (HAProxy stats sockets) may hold at most 107 bytes.
RUN_DIR=$(mktemp -d -t pst.XXXXXXXX)
REPORTS=$RUN_DIR/reports
mkdir -p "$REPORTS" "$RUN_DIR/home" "$RUN_DIR/tmp"
# A registry of our own, so tests neither see nor touch the user's pilots; TMPDIR so that
# whatever the tools put in the temporary folder goes away with this run.
export PILOT_STREAMING_HOME=$RUN_DIR/home
export TMPDIR=$RUN_DIR/tmp

# Processes whose environment points into this run's folder (PILOT_STREAMING_HOME or TMPDIR,
# also the registries that tests make under TMPDIR): pilots and brokers run detached (their
# own session), so they are not our descendants, but they inherit these variables.
processes_of_this_run() {
  local environ pid vars var
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    # Processes may end (or belong to another user) while we look: skip those.
    { mapfile -d '' vars <"$environ"; } 2>/dev/null || continue
    for var in "${vars[@]}"; do
      if [[ $var == "PILOT_STREAMING_HOME=$RUN_DIR/"* || $var == "TMPDIR=$RUN_DIR/"* ]]; then
        echo "$pid"
        break
      fi
    done
  done
}

descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1"); do
    echo "$child"
    descendants "$child"
  done
}

# stop_processes PID... : SIGTERM, up to 10 s grace, then SIGKILL.
stop_processes() {
  local pid alive deadline=$((SECONDS + 10))
  (($# == 0)) && return 0
  kill -TERM "$@" 2>/dev/null
  while ((SECONDS < deadline)); do
    alive=()
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    ((${#alive[@]} == 0)) && return 0
    sleep 0.5
  done
  kill -KILL "${alive[@]}" 2>/dev/null
  return 0
}

cleanup() {
  trap - EXIT INT TERM
  local pids
  mapfile -t pids < <(descendants $$)
  stop_processes "${pids[@]}"
  mapfile -t pids < <(processes_of_this_run)
  stop_processes "${pids[@]}"
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SUITES=() RESULTS=() PASSED=() FAILED=() DURATIONS=() FAILED_TESTS=()

# record NAME RC PASSED FAILED SECONDS
record() {
  SUITES+=("$1") PASSED+=("$3") FAILED+=("$4") DURATIONS+=("$5")
  if (($2 == 0 && $4 == 0)); then RESULTS+=(ok); else RESULTS+=(FAILED); fi
}

# run_suite NAME KIND REPORT TIMEOUT_SECONDS COMMAND...
#   KIND is vitest|pytest|playwright (tests counted from REPORT) or "check" (one test).
run_suite() {
  local name=$1 kind=$2 report=$3 limit=$4 start=$SECONDS rc counts passed failed
  shift 4
  echo
  echo "======== $name ========"
  # In the background so that Ctrl-C reaches the trap at once; `timeout` stops the suite's
  # whole process group when it runs over.
  timeout --kill-after=30 "$limit" "$@" &
  wait $!
  rc=$?
  ((rc == 124)) && echo "$name: stopped after ${limit} s" >&2
  if [[ $kind == check ]]; then
    if ((rc == 0)); then counts="1 0"; else counts="0 1"; fi
  elif [[ -s $report ]] && counts=$(python3 "$REPO_ROOT/scripts/count_tests.py" "$kind" "$report"); then
    :
  else
    echo "$name: no readable $kind report at $report" >&2
    counts="0 0"
  fi
  read -r passed failed <<<"$counts"
  if [[ $kind != check ]] && ((failed > 0)); then
    mapfile -t -O "${#FAILED_TESTS[@]}" FAILED_TESTS < <(
      python3 "$REPO_ROOT/scripts/count_tests.py" --failed "$kind" "$report" | sed "/^ /!s|^|$name: |"
    )
  fi
  # A runner that failed without reporting a failed test (crash, no tests found) still fails.
  if ((rc != 0 && failed == 0)); then failed=1; fi
  record "$name" "$rc" "$passed" "$failed" "$((SECONDS - start))"
}

# Java ignores TMPDIR and writes to the machine's /tmp unless told otherwise: its entries at the
# start of the suites, to find any that a test or a pilot leaves there. A JVM's per-user
# hsperfdata directory is shared by every JVM of the user and stays once made (each JVM removes
# its own file in it at exit): the files in it count, not the empty directory.
SHARED_TEMP=/tmp
shared_temp_entries() {
  local entry
  while IFS= read -r entry; do
    if [[ $entry == hsperfdata_* && -d $SHARED_TEMP/$entry ]]; then
      find "$SHARED_TEMP/$entry" -mindepth 1 -maxdepth 1 -printf "$entry/%f\n" 2>/dev/null
    else
      echo "$entry"
    fi
  done < <(find "$SHARED_TEMP" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null) | sort
}

check_no_leftover_temp_files() {
  local left
  left=$(comm -13 "$RUN_DIR/shared-temp-before" <(shared_temp_entries))
  if [[ -n $left ]]; then
    echo "left behind in $SHARED_TEMP by the tests:" >&2
    echo "$left" >&2
    return 1
  fi
  echo "nothing new is left in $SHARED_TEMP"
}

check_no_leftover_processes() {
  local pids
  mapfile -t pids < <(processes_of_this_run)
  if ((${#pids[@]} > 0)); then
    echo "processes left behind by the tests:" >&2
    ps -o pid,etimes,args -p "$(IFS=,; echo "${pids[*]}")" >&2
    return 1
  fi
  echo "no process of this run is left"
}

print_summary() {
  local i total_passed=0 total_failed=0
  echo
  echo "======== summary ========"
  printf '%-28s %-7s %7s %7s %8s\n' suite result passed failed seconds
  for i in "${!SUITES[@]}"; do
    printf '%-28s %-7s %7s %7s %8s\n' "${SUITES[$i]}" "${RESULTS[$i]}" "${PASSED[$i]}" \
      "${FAILED[$i]}" "${DURATIONS[$i]}"
    total_passed=$((total_passed + PASSED[i]))
    total_failed=$((total_failed + FAILED[i]))
  done
  if ((${#FAILED_TESTS[@]} > 0)); then
    echo "failed tests:"
    printf '  %s\n' "${FAILED_TESTS[@]}"
  fi
  echo "total time: $SECONDS s"
  echo "$total_passed passed, $total_failed failed"
  ((total_failed == 0))
}

setup_start=$SECONDS
echo "======== set-up ========"
if ! (
  set -e
  # Installs them as root; otherwise names the missing ones and stops.
  ensure_debian_packages "${DEBIAN_PACKAGES[@]}"
  setup_project
  prepare_spark
  prepare_flink
); then
  record set-up 1 0 1 "$((SECONDS - setup_start))"
  print_summary
  exit 1
fi

shared_temp_entries >"$RUN_DIR/shared-temp-before"
VITEST_REPORT=(--reporter=default --reporter=json)
run_suite eslint check - 600 npx eslint .
run_suite prettier check - 300 npx prettier --check .
run_suite typecheck check - 600 npm run typecheck
run_suite "vitest unit (lib)" vitest "$REPORTS/lib-unit.json" 600 \
  npm exec -w lib -- vitest run --project unit "${VITEST_REPORT[@]}" \
  --outputFile.json="$REPORTS/lib-unit.json"
run_suite "vitest unit (extension)" vitest "$REPORTS/extension-unit.json" 600 \
  npm exec -w extension -- vitest run "${VITEST_REPORT[@]}" \
  --outputFile.json="$REPORTS/extension-unit.json"
run_suite "vitest integration (lib)" vitest "$REPORTS/lib-integration.json" 1500 \
  npm exec -w lib -- vitest run --project integration "${VITEST_REPORT[@]}" \
  --outputFile.json="$REPORTS/lib-integration.json"
run_suite "vitest testbed (lib)" vitest "$REPORTS/lib-testbed.json" 1500 \
  npm exec -w lib -- vitest run --project testbed "${VITEST_REPORT[@]}" \
  --outputFile.json="$REPORTS/lib-testbed.json"
run_suite "vitest scistream (lib)" vitest "$REPORTS/lib-scistream.json" 1500 \
  npm exec -w lib -- vitest run --project scistream "${VITEST_REPORT[@]}" \
  --outputFile.json="$REPORTS/lib-scistream.json"
run_suite "pytest kernel-client" pytest "$REPORTS/kernel-client.xml" 900 \
  "$VENV/bin/pytest" lib/test/kernel-client -q --junitxml="$REPORTS/kernel-client.xml"
run_suite "demo notebooks (nbclient)" pytest "$REPORTS/notebooks.xml" 600 \
  "$VENV/bin/pytest" ui-tests/notebooks -q --junitxml="$REPORTS/notebooks.xml"
run_suite "playwright (Galata)" playwright "$REPORTS/ui-tests.json" 1200 \
  env CI=1 PLAYWRIGHT_JSON_OUTPUT_NAME="$REPORTS/ui-tests.json" \
  npm exec -w ui-tests -- playwright test --reporter=list,json
leftovers_start=$SECONDS
echo
echo "======== no leftover processes ========"
if check_no_leftover_processes; then
  record "no leftover processes" 0 1 0 "$((SECONDS - leftovers_start))"
else
  record "no leftover processes" 1 0 1 "$((SECONDS - leftovers_start))"
fi
leftovers_start=$SECONDS
echo
echo "======== no leftover files in the shared /tmp ========"
if check_no_leftover_temp_files; then
  record "no leftover temp files" 0 1 0 "$((SECONDS - leftovers_start))"
else
  record "no leftover temp files" 1 0 1 "$((SECONDS - leftovers_start))"
fi

print_summary
