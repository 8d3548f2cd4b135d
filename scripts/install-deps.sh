#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages dlrig needs to build and test, only those missing.
# Usage: scripts/install-deps.sh [build|test]   (test adds what the integration tests use)
set -euo pipefail

packages=(g++ cmake ninja-build make libcli11-dev nlohmann-json3-dev libfmt-dev
          libtomlplusplus-dev libexpected-dev libgtest-dev zlib1g-dev libyaml-dev libsqlite3-dev
          libncurses-dev pci.ids)
if [[ "${1:-build}" == test ]]; then
  packages+=(python3 python3-venv python3-pip python3-yaml shellcheck clang binutils time prometheus tmux fio)
  # The tests also run under ASan+UBSan (GCC: libasan, libubsan come with g++) and libFuzzer
  # (clang). clang's sanitizer and libFuzzer runtimes are their own package from Debian 12
  # on, libclang-rt-N-dev, only recommended by clang-N; older releases ship them with clang.
  clang_major=$(apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -1)
  if [[ -n $clang_major ]] && apt-cache show "libclang-rt-$clang_major-dev" >/dev/null 2>&1; then
    packages+=("libclang-rt-$clang_major-dev")
  fi
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo)
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
