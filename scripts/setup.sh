#!/usr/bin/env bash
# Installs what building Chancery needs on a fresh Debian/Ubuntu machine that
# has only Rust: libclang (RocksDB's bindings are generated with it) and a C++
# compiler. No system `protoc` is needed: .proto files compile in pure Rust.
# Safe to run again: it installs only what is missing.
set -euo pipefail

need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
# clang-sys links against an unversioned `libclang.so` or `libclang-N.so`;
# the runtime package alone (libclang1-N: `libclang.so.1`) is not enough.
have_libclang=no
for pattern in /usr/lib/llvm-*/lib/libclang.so /usr/lib/llvm-*/lib/libclang-*.so \
    /usr/lib/*-linux-gnu/libclang.so /usr/lib/*-linux-gnu/libclang-*.so; do
    if compgen -G "$pattern" >/dev/null; then have_libclang=yes; fi
done
[ "$have_libclang" = yes ] || need+=(libclang-dev)
command -v c++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
# tests/tests/python_client.rs runs client/examples/python/chancery_record.py,
# which needs python3 with the `cryptography` module (Ed25519).
python3 -c 'import cryptography' >/dev/null 2>&1 || need+=(python3 python3-cryptography)

if ((${#need[@]})); then
    echo "setup: installing ${need[*]}" >&2
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Debian's package serves Debian's python3; when the python3 first on PATH
# is another one (pyenv, a virtualenv), give it the module with its own pip.
if ! python3 -c 'import cryptography' >/dev/null 2>&1; then
    echo "setup: installing the cryptography module for $(command -v python3) with pip" >&2
    python3 -m pip install --quiet --disable-pip-version-check cryptography >/dev/null ||
        echo "setup: warning: could not install cryptography; tests/tests/python_client.rs will fail" >&2
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust (https://rustup.rs) first" >&2
    exit 1
fi
