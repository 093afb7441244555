# Installs Debian packages that are missing (only when running as root).
# Sourced by setup.sh and test.sh; `dpkg -s` first so that re-runs never touch apt.

ensure_debian_packages() {
  local missing=() package
  for package in "$@"; do
    if ! dpkg -s "$package" >/dev/null 2>&1; then
      missing+=("$package")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  if [[ $(id -u) != 0 ]]; then
    echo "Missing Debian packages: ${missing[*]} (run as root, or install them: apt-get install ${missing[*]})" >&2
    return 1
  fi
  echo "==> apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Prints the Debian packages that the testbeds list beside their code (debian-packages.txt).
testbed_debian_packages() {
  find "$REPO_ROOT/lib/test" -name debian-packages.txt -exec cat {} + |
    sed 's/#.*//' | tr -s ' \t' '\n' | grep . | sort -u
}
