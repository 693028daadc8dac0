# Shared by the scripts in this folder (sourced, never run): the toolchain
# paths every script uses, the checks that they exist, and timed sections.
#
# Every path here is installed by scripts/prereqs.sh from a named package;
# prereqs.sh checks each one with `dpkg -S` (Debian) or `--version` (cargo,
# npm, pip), so a path that exists only on one machine fails there, first.

export DEBIAN_FRONTEND=noninteractive
export PATH="$HOME/.cargo/bin:$PATH"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

# Debian's rust-web toolchain builds std from source for wasm32 (rustup cannot
# download targets here); its linker is wasm-ld-22 from lld-22.
DEB_RUSTC=/usr/bin/rustc
DEB_RUSTDOC=/usr/bin/rustdoc
DEB_CARGO=/usr/bin/cargo
WASM_LD=/usr/bin/wasm-ld-22
WASM_OPT=/usr/bin/wasm-opt
CHROMIUM=/usr/bin/chromium
WASM_BINDGEN_VERSION=0.2.130
CARGO_FUZZ_VERSION=0.13.2
RUFF_VERSION=0.17.6
SDK_PY_VENV=$ROOT/sdk-python/.venv
INTEROP_PY_VENV=$ROOT/tests/interop/python/.venv

# `cargo build` for wasm32 with build-std, on Debian's toolchain. Reference
# types are off: Debian's binaryen (108) mis-encodes the externref table that
# wasm-bindgen emits with them, and the module no longer instantiates. A panic
# traps at once (`panic=immediate-abort`) instead of formatting a message the
# browser never shows: 48 KB less module. The bindings do not panic on input
# (tests/bad input); a bug would surface as a `RuntimeError: unreachable`.
wasm_cargo() {
  RUSTC=$DEB_RUSTC RUSTDOC=$DEB_RUSTDOC RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=$WASM_LD \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=-reference-types -Zunstable-options -Cpanic=immediate-abort" \
    "$DEB_CARGO" "$@" -Z build-std=std,panic_abort --target wasm32-unknown-unknown
}

# The Rust packages tested natively. The napi and pyo3 crates are cdylibs that
# only link inside their host runtimes (their tests run under node and pytest),
# and the WASM crate builds for wasm32. Every native cargo build and test uses
# this one selection, so features unify the same way and nothing compiles twice.
RUST_PACKAGES=(--workspace --exclude sigil-node --exclude sigil-python --exclude sigil-wasm)

# Fails with one clear message when any of the given executables is missing.
# A loopback port nothing listens on now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

require() {
  local missing=() tool
  for tool in "$@"; do
    if [[ $tool == */* ]]; then [ -e "$tool" ] || missing+=("$tool"); else
      command -v "$tool" >/dev/null || missing+=("$tool"); fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]}" >&2
    echo "run ./scripts/prereqs.sh (it installs every tool the test scripts use)" >&2
    exit 1
  fi
}

# Timed sections. `section NAME` closes the previous section and opens NAME;
# `print_times` (run on exit by scripts/test.sh) prints each section's time
# and the total, so CI's budget can be read off every run.
SECTION_NAMES=()
SECTION_SECS=()
_section_start=$SECONDS
_section_name=
_close_section() {
  if [ -n "$_section_name" ]; then
    SECTION_NAMES+=("$_section_name")
    SECTION_SECS+=("$((SECONDS - _section_start))")
  fi
}
section() {
  _close_section
  _section_name=$*
  _section_start=$SECONDS
  printf '\n===== %s (at %ss) =====\n' "$*" "$SECONDS"
}
print_times() {
  local status=$? i
  _close_section
  _section_name=
  printf '\n===== Times (%s) =====\n' "$([ $status -eq 0 ] && echo passed || echo "FAILED, exit $status")"
  for i in "${!SECTION_NAMES[@]}"; do
    printf '%6ss  %s\n' "${SECTION_SECS[$i]}" "${SECTION_NAMES[$i]}"
  done
  printf '%6ss  total wall time (%dm%02ds)\n' "$SECONDS" "$((SECONDS / 60))" "$((SECONDS % 60))"
}
