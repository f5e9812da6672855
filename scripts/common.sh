# What scripts/test and scripts/stack share, sourced by both after they define `die`.
# shellcheck shell=bash

# Tools installed per user (rustup's cargo, pyenv's Python) may not be on the PATH
# of a non-interactive shell.
for dir in "$HOME/.cargo/bin" "$HOME/.pyenv/shims"; do
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

# Cargo's target directory (CARGO_TARGET_DIR and .cargo/config.toml count).
target_dir() { cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'; }

# The workspace's binary $1, built with the dependencies' features that `cargo test --workspace`
# resolves: --workspace selects every member, and --examples (there are none) makes cargo count
# dev-dependencies, as for tests. After `cargo test --workspace` the build is fresh; before it, the
# tests reuse it. Prints the binary's path. Rejected: `cargo run -p generator` or `cargo build -p
# handler`, which resolve the features of one package alone (tokio without test-util, serde without
# rc, syn without visit-mut...) and so rebuild most of the tree, the AWS SDK included (about 550 s
# on two cores for the function; 224 s for the generator). Also rejected: cargo's
# resolver.feature-unification (unstable in cargo 1.95, and blind to dev-dependencies); making the
# dev-only features normal ones (kept in step by hand with every dependency); `cargo test
# --workspace --no-run` (builds every test too).
workspace_binary() {
  cargo build --workspace --bin "$1" --examples >&2
  printf '%s/debug/%s\n' "$(target_dir)" "$1"
}
