#!/usr/bin/env bash
# Removes what a testbed left behind when the process that started it died before its own
# teardown: exactly the daemons (pid and start time checked), network namespaces (with whatever
# still runs in them) and bridge listed in DIR/owned.txt, then DIR itself.
# Usage: lib/test/testbed/teardown.sh DIR   (DIR is the pilot-testbed-* directory of the run)
set -euo pipefail

dir=${1:?usage: teardown.sh TESTBED_DIR}
ledger=$dir/owned.txt
if [[ ! -f $ledger ]]; then
  echo "$ledger does not exist: $dir is not a testbed directory" >&2
  exit 2
fi

# The start time (field 22 of /proc/PID/stat, counted after the command name) of a live process.
start_time() {
  local stat rest
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  rest=${stat##*) }
  read -r -a fields <<<"$rest"
  echo "${fields[19]}"
}

pids=()
while read -r kind name start; do
  if [[ $kind == pid && $(start_time "$name" || true) == "$start" ]]; then pids+=("$name"); fi
done <"$ledger"
while read -r kind name _; do
  if [[ $kind == netns ]] && ip netns list | grep -qw "$name"; then
    mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$name")
  fi
done <"$ledger"

if ((${#pids[@]} > 0)); then
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 50); do
    alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    ((${#alive[@]} == 0)) && break
    sleep 0.2
  done
  if ((${#alive[@]} > 0)); then kill -KILL "${alive[@]}" 2>/dev/null || true; fi
fi

while read -r kind name _; do
  case $kind in
    netns) if ip netns list | grep -qw "$name"; then ip netns del "$name"; fi ;;
    link) if ip link show "$name" >/dev/null 2>&1; then ip link del "$name"; fi ;;
  esac
done <"$ledger"
rm -rf "$dir"
echo "removed the testbed in $dir"
