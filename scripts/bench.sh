#!/usr/bin/env bash
# `npm run bench [NAME...]`: installs whatever is missing, then runs the benchmarks in lib/bench/
# (all, or those named). Each writes its table and plot to docs/benchmarks/. Benchmarks report
# ratios against peers measured in the same run; they assert nothing about speed.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$REPO_ROOT"

mapfile -t packages < <(testbed_debian_packages)
ensure_debian_packages "${packages[@]}"
setup_project

RUN_DIR=$(mktemp -d -t pilot-streaming-bench.XXXXXXXX)
export PILOT_STREAMING_HOME=$RUN_DIR/home
trap 'rm -rf "$RUN_DIR"' EXIT

if (($# > 0)); then
  names=("$@")
else
  mapfile -t names < <(find lib/bench -mindepth 2 -maxdepth 2 -name vitest.config.ts -printf '%h\n' |
    xargs -n1 basename | sort)
fi
for name in "${names[@]}"; do
  config=lib/bench/$name/vitest.config.ts
  if [[ ! -f $config ]]; then
    echo "No benchmark \"$name\": expected one of $(ls lib/bench | tr '\n' ' ')" >&2
    exit 2
  fi
  echo "==> benchmark $name"
  npm exec -w lib -- vitest run --config "bench/$name/vitest.config.ts"
done
echo "==> results in docs/benchmarks/"
