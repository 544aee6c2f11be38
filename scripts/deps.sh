#!/usr/bin/env bash
# Installs the Debian packages loopscope needs that are missing. Run as root
# (or with sudo available); does nothing when everything is there already.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config                 # build
  libcriterion-dev valgrind                        # tests
  gcc-aarch64-linux-gnu qemu-user                  # the AArch64 coroutine switch, tested under qemu
  libcjson-dev                                     # JSON export / import
  libbpf-dev bpftool clang llvm libelf-dev zlib1g-dev systemtap-sdt-dev  # eBPF
  libsdl2-dev libsdl2-ttf-dev fonts-dejavu-core    # viewer
  xvfb xdotool x11-apps imagemagick                # GUI tests under Xvfb
  libuv1-dev hyperfine                             # bench baselines
  nodejs                                           # conformance and bench baseline
)
missing=()
for p in "${pkgs[@]}"; do
  # node may come from outside Debian (it does on our machines): accept any.
  if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
