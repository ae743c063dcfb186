#!/bin/sh
# Installs, from Debian 12's archive, what building and testing need.
set -eu

packages="
  cmake gcc make pkg-config git ca-certificates
  libuv1-dev libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler
  protobuf-compiler libyaml-dev libcmocka-dev libcurl4-openssl-dev
  libjansson-dev libssl-dev
  nanopb libnanopb-dev
  python3 python3-grpcio python3-protobuf python3-h2 protobuf-compiler-grpc
  clang-format clang-tidy shellcheck
  nghttp2-client
  docker-registry apache2-utils python3-jwt python3-cryptography
"

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
    grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "installing:$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
