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

# A benchmark's peers, listed in lib/bench/NAME/requirements.txt when it has any, go into the venv
# for the benchmarks alone (the tests do not need them), under scripts/constraints.txt; skipped
# while that file, the constraints and the Python are what was last installed.
ensure_bench_requirements() {
  local requirements=lib/bench/$1/requirements.txt stamp=$VENV/.pilot-streaming-bench-$1.sha256 hash
  [[ -f $requirements ]] || return 0
  hash=$(cat "$requirements" scripts/constraints.txt <(python3 --version) | sha256sum | cut -c1-64)
  if stamp_matches "$stamp" "$hash"; then
    skip_note "bench $1 requirements"
    return 0
  fi
  step "pip install $requirements" "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    -c scripts/constraints.txt -r "$requirements"
  echo "$hash" >"$stamp"
}

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
  ensure_bench_requirements "$name"
  echo "==> benchmark $name"
  npm exec -w lib -- vitest run --config "bench/$name/vitest.config.ts"
done
echo "==> results in docs/benchmarks/"
