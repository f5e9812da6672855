# What scripts/test, scripts/stack, scripts/fuzz and bench/run share, sourced after they define
# `die`; tests/e2e/stack.mjs calls its `workspace_binary`.
# shellcheck shell=bash

# Tools installed per user (rustup's cargo, pyenv's Python, pip's user installs when the Python is
# neither root's nor a virtualenv) may not be on the PATH of a non-interactive shell.
for dir in "$HOME/.cargo/bin" "$HOME/.local/bin" "$HOME/.pyenv/shims"; do
  if [ -d "$dir" ] && [[ ":$PATH:" != *":$dir:"* ]]; then
    PATH="$dir:$PATH"
  fi
done
export PATH

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "root is needed to run: $*"
  fi
}

has_cargo_lambda() { cargo lambda --version >/dev/null 2>&1; }
has_moto_server() { command -v moto_server >/dev/null 2>&1 && moto_server --help >/dev/null 2>&1; }
has_pip() { python3 -m pip --version >/dev/null 2>&1; }
pip_version() { python3 -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null; }
# At the versions of scripts/tools.env: handler/tests/colours.rs compares the photo pipeline with
# Pillow's ImageCms (littleCMS); the benchmarks make their reference photos with Pillow.
has_pillow() { [ "$(pip_version pillow)" = "$PILLOW_VERSION" ] && python3 -c 'from PIL import ImageCms' 2>/dev/null; }
has_numpy() { [ "$(pip_version numpy)" = "$NUMPY_VERSION" ]; }

require_cargo() { command -v cargo >/dev/null 2>&1 || die "missing tool: cargo (install Rust with rustup: https://rustup.rs)"; }

# Installs the Debian packages named in the caller's array `apt_wanted` and the PyPI ones (with
# their pinned versions) in `pip_wanted`, either of them empty; pip itself first when it is missing.
# shellcheck disable=SC2154 # apt_wanted and pip_wanted are the caller's.
install_wanted() {
  if [ "${#pip_wanted[@]}" -gt 0 ] && ! has_pip; then
    apt_wanted+=(python3-pip)
  fi
  if [ "${#apt_wanted[@]}" -gt 0 ]; then
    echo "apt: installing ${apt_wanted[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_wanted[@]}"
  fi
  if [ "${#pip_wanted[@]}" -gt 0 ]; then
    echo "pip: installing ${pip_wanted[*]}"
    # Debian's own Python refuses system-wide installs (PEP 668) unless told; a
    # pyenv or virtualenv Python ignores the variable.
    PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check "${pip_wanted[@]}"
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
    hash -r
  fi
}

# Cargo's target directory (CARGO_TARGET_DIR and .cargo/config.toml count).
target_dir() { cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'; }

# The workspace's binary $1, built with the dependencies' features that `cargo test --workspace`
# resolves: --workspace selects every member, and --examples (there are none) makes cargo count
# dev-dependencies, as for tests. After `cargo test --workspace` the build is fresh; before it, the
# tests reuse it. Prints the binary's path, or fails (status non-zero, cargo's errors on stderr):
# callers assign it to a variable, so that `set -e` stops them there. Rejected: `cargo run -p
# generator` or `cargo build -p handler`, which resolve the features of one package alone (tokio
# without test-util, serde without rc, syn without visit-mut...) and so rebuild much of the tree
# after the tests' build: for the function the AWS SDK included (about 550 s on two cores), for
# the generator its own dependencies (121 s of a fresh clone's run at de07edc, 2-core AMD EPYC).
# Also rejected: cargo's resolver.feature-unification (unstable in cargo 1.95, and blind to
# dev-dependencies); making the dev-only features normal ones (kept in step by hand with every
# dependency); `cargo test --workspace --no-run` (builds every test too).
workspace_binary() {
  cargo build --workspace --bin "$1" --examples >&2 || return
  local dir
  dir=$(target_dir) || return
  printf '%s/debug/%s\n' "$dir" "$1"
}
