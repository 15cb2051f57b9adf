#!/usr/bin/env bash
# Runs every test of the workspace (unit, property, simulator, crash,
# end-to-end). Installs missing system packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
cargo test --workspace "$@"
