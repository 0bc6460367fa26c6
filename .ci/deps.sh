#!/usr/bin/env bash
# Installs what trawl needs to build and test on Debian 12, if anything is missing.
# Safe to run again: it only calls apt-get when a package is absent.
set -eu
pkgs="build-essential clang libclang-rt-14-dev pkg-config bc libcurl4-openssl-dev libsqlite3-dev
      libdeflate-dev libisal-dev zlib1g-dev libpsl-dev libpcre2-dev libcmocka-dev libbrotli-dev libssl-dev libgumbo1
      qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
missing=$(for p in $pkgs; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"; done)
# Node and npm (the WARC test's independent reader) by command: an image may carry its
# own Node build, whose npm would conflict with Debian's npm package.
command -v node >/dev/null && command -v npm >/dev/null || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq $missing >/dev/null
fi
