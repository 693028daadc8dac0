#!/usr/bin/env bash
# Installs every tool the test scripts use, idempotently (whatever is present
# and current is skipped), then checks that each path they call exists and
# comes from a package installed here. scripts/test.sh runs it first; the
# other scripts only check (lib.sh `require`) and point here.
#
#   ./scripts/prereqs.sh
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

command -v cargo >/dev/null || { echo "cargo (rustup) is required: the machine's Rust toolchain" >&2; exit 1; }

# --- Debian packages: one apt-get for everything missing -------------------
# path the scripts call          package that provides it
apt_paths=(
  "$DEB_RUSTC"                   rustc-web
  "$DEB_CARGO"                   cargo-web
  /usr/lib/rustlib/src/rust     rust-web-src
  "$DEB_RUSTDOC"                 rustc-web
  "$WASM_LD"                     lld-22
  "$WASM_OPT"                    binaryen
  "$CHROMIUM"                    chromium
  /usr/bin/gcc                   gcc
  /usr/bin/curl                  curl
  /usr/lib/postgresql/15/bin/pg_ctl postgresql-15
  /sbin/runuser                  util-linux
)
missing=()
for ((i = 0; i < ${#apt_paths[@]}; i += 2)); do
  path=${apt_paths[i]} pkg=${apt_paths[i + 1]}
  if [ ! -e "$path" ] && ! dpkg -s "$pkg" >/dev/null 2>&1; then missing+=("$pkg"); fi
done
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3 python3-venv python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "apt-get install ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- crates.io tools ---------------------------------------------------------
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  # Not --locked: the registry snapshot lacks one locked dependency.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

# --- npm: `npm ci` wherever node_modules does not match package-lock.json ---
for dir in tests/js sdk-wasm tests/interop/node sdk-node/bench tests/upstream-oidc; do
  lock_sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  stamp=$dir/node_modules/.sigil-lock-sha256
  if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" >"$stamp"
  fi
done

# --- Python venvs: made when missing, reinstalled when their pins change -----
venv_install() { # venv, stamp text, pip arguments...
  local venv=$1 want=$2
  shift 2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  if [ "$(cat "$venv/.sigil-pins" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet "$@"
    echo "$want" >"$venv/.sigil-pins"
  fi
}
sdk_py_pins="maturin pytest mypy ruff==$RUFF_VERSION pytest-timeout==2.4.0 fastapi==0.163.2 starlette==1.10.0 httpx==0.28.1 flask==3.1.3 django==5.2.19 django-stubs==5.2.9 standardwebhooks==1.1.0 pyjwt==2.15.1 cryptography==50.0.2"
# shellcheck disable=SC2086
venv_install "$SDK_PY_VENV" "$sdk_py_pins" $sdk_py_pins
venv_install "$INTEROP_PY_VENV" "$(sha256sum tests/interop/python/requirements.txt)" \
  -r tests/interop/python/requirements.txt
venv_install tests/openapi/.venv "$(sha256sum tests/openapi/requirements.txt)" \
  -r tests/openapi/requirements.txt

# --- Check: every path the scripts call, and where it comes from -----------
echo "tool paths the scripts call, and the package each comes from:"
bad=0
for ((i = 0; i < ${#apt_paths[@]}; i += 2)); do
  path=${apt_paths[i]} pkg=${apt_paths[i + 1]}
  owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | cut -d: -f1 | head -1 || true)
  if [ ! -e "$path" ]; then
    echo "  MISSING  $path (package $pkg)"; bad=1
  elif [ "$owner" != "$pkg" ] && ! dpkg -S "$path" 2>/dev/null | grep -q "^$pkg:"; then
    echo "  WRONG    $path comes from '${owner:-no package}', expected $pkg"; bad=1
  else
    echo "  ok       $path <- dpkg $pkg"
  fi
done
check_cmd() { # label, expected output prefix, command...
  local label=$1 want=$2 got
  shift 2
  got=$("$@" 2>/dev/null | head -1 || true)
  if [[ $got == "$want"* ]]; then echo "  ok       $label <- $got"; else
    echo "  MISSING  $label (wanted '$want', got '${got:-nothing}')"; bad=1; fi
}
check_cmd "$(command -v cargo)" cargo cargo --version
check_cmd "$(command -v node || echo node)" v node --version
check_cmd "$(command -v npm || echo npm)" "" npm --version
check_cmd "$HOME/.cargo/bin/wasm-bindgen" "wasm-bindgen $WASM_BINDGEN_VERSION" wasm-bindgen --version
check_cmd "$HOME/.cargo/bin/cargo-fuzz" "cargo-fuzz $CARGO_FUZZ_VERSION" cargo fuzz --version
check_cmd "$SDK_PY_VENV (pip)" maturin "$SDK_PY_VENV/bin/maturin" --version
check_cmd "$SDK_PY_VENV (pip)" "ruff $RUFF_VERSION" "$SDK_PY_VENV/bin/ruff" --version
check_cmd "$SDK_PY_VENV (pip)" mypy "$SDK_PY_VENV/bin/mypy" --version
check_cmd "$INTEROP_PY_VENV (pip)" pytest "$INTEROP_PY_VENV/bin/pytest" --version
check_cmd "tests/openapi/.venv (pip)" "schemathesis, version" tests/openapi/.venv/bin/schemathesis --version
for dir in tests/js sdk-wasm tests/interop/node sdk-node/bench tests/upstream-oidc; do
  check_cmd "$dir/node_modules (npm ci)" "$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)" \
    cat "$dir/node_modules/.sigil-lock-sha256"
done
if [ "$bad" -ne 0 ]; then
  echo "prerequisites incomplete: see MISSING/WRONG above" >&2
  exit 1
fi
