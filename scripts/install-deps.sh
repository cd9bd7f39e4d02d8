#!/usr/bin/env bash
# Installs the Debian 12 packages fleetsim needs to build, test and analyse,
# but only when one is missing (so repeated runs cost nothing). Needs root or
# sudo when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libopenmpi-dev openmpi-bin
  libhdf5-openmpi-dev hdf5-tools hdf5-filter-plugin
  libjansson-dev libcurl4-openssl-dev
  python3-h5py python3-numpy python3-matplotlib python3-pytest python3-xarray python3-h5netcdf
  slurm-wlm munge prometheus curl
  clang libclang-rt-14-dev valgrind
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
