# Sourced by the other scripts: one shared target directory outside the
# clone, so repeated runs (and CI) build incrementally.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/chancery-build}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
