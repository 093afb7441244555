# Set-up shared by start.sh, test.sh and binder/postBuild: installs whatever is missing and
# skips every step whose inputs have not changed since it last ran.
#
# Source it, then call `setup_project`. It exports:
#   REPO_ROOT               the repository root
#   VENV                    the project's Python virtual environment (<repo>/.venv)
#   PILOT_STREAMING_CACHE   download cache (<repo>/.cache)
# and puts $VENV/bin on PATH.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$REPO_ROOT/.venv
export REPO_ROOT VENV
export PILOT_STREAMING_CACHE=$REPO_ROOT/.cache
export PATH=$VENV/bin:$PATH

# shellcheck source=debian-packages.sh
source "$REPO_ROOT/scripts/debian-packages.sh"

# Prints one hash over the content and names of the files under the given paths that git
# tracks or would track (build outputs are ignored by .gitignore, so they do not count).
inputs_hash() {
  (
    cd "$REPO_ROOT"
    git ls-files -z --cached --others --exclude-standard -- "$@" |
      sort -zu |
      while IFS= read -r -d '' file; do
        # Tracked files deleted in the work tree are listed too; only hash what exists.
        if [[ -f $file ]]; then printf '%s\0' "$file"; fi
      done |
      xargs -0r sha256sum |
      sha256sum | cut -c1-64
  )
}

# step NAME COMMAND... : runs a set-up step and reports how long it took.
step() {
  local name=$1 start=$SECONDS
  shift
  echo "==> $name"
  "$@"
  echo "    $name: $((SECONDS - start)) s"
}

# skip_note NAME : says that a step was skipped because nothing changed.
skip_note() {
  echo "==> $1: up to date"
}

stamp_matches() { [[ -f $1 && $(cat "$1") == "$2" ]]; }

ensure_npm_packages() {
  local stamp=$REPO_ROOT/node_modules/.pilot-streaming-lock.sha256 hash
  hash=$(sha256sum "$REPO_ROOT/package-lock.json" | cut -c1-64)
  if stamp_matches "$stamp" "$hash"; then
    skip_note "npm packages"
    return 0
  fi
  step "npm ci" npm ci --no-audit --no-fund
  echo "$hash" >"$stamp"
}

# The venv's requirements: ours, plus any requirements.txt that a test folder keeps beside
# its code (e.g. the SciStream testbed's gRPC tools). scripts/constraints.txt pins them all.
python_requirements() {
  echo scripts/requirements.txt
  find lib/test -name requirements.txt | sort
}

ensure_venv() {
  local stamp=$VENV/.pilot-streaming-requirements.sha256 hash requirement requirements=()
  mapfile -t requirements < <(python_requirements)
  hash=$(cat "${requirements[@]}" scripts/constraints.txt <(python3 --version) | sha256sum | cut -c1-64)
  if stamp_matches "$stamp" "$hash" && [[ -x $VENV/bin/jupyter ]]; then
    skip_note "Python venv"
    return 0
  fi
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    ensure_debian_packages python3-venv
  fi
  step "Python venv (.venv)" python3 -m venv "$VENV"
  local pip_args=(--quiet --disable-pip-version-check -c scripts/constraints.txt)
  for requirement in "${requirements[@]}"; do pip_args+=(-r "$requirement"); done
  step "pip install ${requirements[*]}" "$VENV/bin/pip" install "${pip_args[@]}"
  echo "$hash" >"$stamp"
}

# build_workspace WORKSPACE OUTPUT_DIR INPUT_PATH... : `npm run build -w WORKSPACE` unless the
# inputs hash equals the one stored in OUTPUT_DIR by the last successful build.
build_workspace() {
  local workspace=$1 output=$REPO_ROOT/$2 stamp hash
  shift 2
  stamp=$output/.pilot-streaming-inputs.sha256
  if stamp_matches "$stamp" "$(inputs_hash "$@")"; then
    skip_note "build $workspace"
    return 0
  fi
  step "npm run build -w $workspace" npm run build -w "$workspace"
  # Hashed after the build, so outputs that git does not ignore count as unchanged next time.
  inputs_hash "$@" >"$stamp"
}

prepare_kafka() {
  step "Kafka distribution (prepare kafka)" node "$REPO_ROOT/lib/dist/cli/main.js" prepare kafka
}

# Spark's jars (about 340 MB): for the tests, which start Spark pilots; `npm start` leaves them
# to the first Spark pilot (or `pilot-streaming prepare spark`).
prepare_spark() {
  step "Spark distribution (prepare spark)" node "$REPO_ROOT/lib/dist/cli/main.js" prepare spark
}

# Flink (about 330 MB from PyPI's wheels, the SQL Gateway and Kafka connector jars from Maven
# Central): for the tests; `npm start` leaves it to the first Flink pilot (or `prepare flink`).
prepare_flink() {
  step "Flink distribution (prepare flink)" node "$REPO_ROOT/lib/dist/cli/main.js" prepare flink
}

install_kernelspec() {
  step "kernelspec into .venv" node "$REPO_ROOT/lib/dist/cli/main.js" kernel install \
    --prefix "$VENV" --env "PILOT_STREAMING_CACHE=$PILOT_STREAMING_CACHE"
}

setup_project() {
  local start=$SECONDS
  cd "$REPO_ROOT"
  ensure_npm_packages
  ensure_venv
  build_workspace lib lib/dist lib/src lib/scripts lib/package.json lib/tsconfig.json tsconfig.json package-lock.json
  build_workspace extension extension/labextension extension style schema lib/src/protocol \
    tsconfig.json package-lock.json
  prepare_kafka
  install_kernelspec
  echo "==> set-up done in $((SECONDS - start)) s"
}
