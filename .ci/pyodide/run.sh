#!/usr/bin/env bash
# Run the pytest suite under CPython-on-WebAssembly (Pyodide) in Node.js.
#
# Usage: .ci/pyodide/run.sh 3.14|3.15 [pytest args...]
# Env:   REPO           repo to test (default: git top-level of this script)
#        PYODIDE_CACHE  cache dir for the npm package and wheels (default: $REPO/.ci/.cache)
#        PYODIDE_DEPS   pip requirements for the test run (default: "pytest hypothesis cloudpickle")
# Idempotent: the npm package and the wheels are fetched once per version, then reused.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${1:?usage: run.sh 3.14|3.15 [pytest args...]}"
shift
[[ "${1:-}" == "--" ]] && shift   # allow "run.sh 3.14 -- -k foo"
case "$version" in
  3.14) npm_spec=pyodide@314.0.7 ;;          # CPython 3.14.2
  3.15) npm_spec=pyodide@315.0.0-alpha.2 ;;  # CPython 3.15.0rc1
  *) echo "run.sh: unsupported version '$version' (use 3.14 or 3.15)" >&2; exit 2 ;;
esac

REPO="${REPO:-$(git -C "$here" rev-parse --show-toplevel)}"
cache="${PYODIDE_CACHE:-$REPO/.ci/.cache}"
deps="${PYODIDE_DEPS:-pytest hypothesis cloudpickle}"
pyodide_dir="$cache/pyodide-$version"
wheels="$cache/wheels-$version"

# 1. The Pyodide runtime (wasm interpreter + stdlib) from npm.
installed="$(node -p 'require(process.argv[1]).version' \
  "$pyodide_dir/node_modules/pyodide/package.json" 2>/dev/null || true)"
if [[ "pyodide@$installed" != "$npm_spec" ]]; then
  mkdir -p "$pyodide_dir"
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$pyodide_dir" "$npm_spec" >&2
fi

# 2. Pure-Python wheels for the wasm interpreter's Python version. pip resolves the
#    dependencies, but evaluates environment markers against the *host* python3.
stamp="$npm_spec $deps"
if [[ "$(cat "$wheels/.stamp" 2>/dev/null)" != "$stamp" ]]; then
  rm -rf "$wheels" "$wheels.tmp"
  # shellcheck disable=SC2086  # $deps is a word list on purpose
  python3 -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
    --python-version "$version" --platform any --implementation py --abi none \
    -d "$wheels.tmp" $deps >&2
  echo "$stamp" > "$wheels.tmp/.stamp"
  mv "$wheels.tmp" "$wheels"
fi

# 3. Run; pytest's exit code becomes ours. No args: "tests -q -p no:cacheprovider".
exec node "$here/run-tests.mjs" --pyodide-dir "$pyodide_dir" --wheels "$wheels" --repo "$REPO" -- "$@"
