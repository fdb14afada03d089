#!/usr/bin/env bash
# Builds the npm package of score-wasm (issue 28) into target/score-wasm-pkg/:
#   node/   wasm-bindgen --target nodejs (CommonJS; the .wasm is read synchronously on require)
#   web/    wasm-bindgen --target web (an ES module; call its default export, `init`, first)
#   package.json (exports: "node" → node/, everything else → web/), README.md
# with the .d.ts wasm-bindgen writes from the hand-written types in src/js.rs.
#
# Needs the wasm32-unknown-unknown target and `wasm-bindgen` of the version the lock file pins
# (tools/wasm-bindgen-cli; `bash .ci/wasm-playground` installs both). WASM_BINDGEN names the binary
# (default: target/tools/bin/wasm-bindgen, then `wasm-bindgen` on PATH). PROFILE=dev builds a debug
# .wasm (faster to build; the size budget in BENCHMARKS.md is for the default, PROFILE=wasm).
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=${PROFILE:-wasm}
out=target/score-wasm-pkg

bindgen=${WASM_BINDGEN:-target/tools/bin/wasm-bindgen}
[ -x "$bindgen" ] || bindgen=$(command -v wasm-bindgen || true)
[ -n "$bindgen" ] || { echo "build.sh: wasm-bindgen not found; run bash .ci/wasm-playground or see tools/wasm-bindgen-cli/README.md" >&2; exit 1; }

# The CLI must be the version of the wasm-bindgen crate in Cargo.lock (their schemas must agree).
want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
have=$("$bindgen" --version | awk '{print $2}')
[ "$want" = "$have" ] || { echo "build.sh: $bindgen is $have; Cargo.lock pins wasm-bindgen $want" >&2; exit 1; }

cargo build -q -p score-wasm --target wasm32-unknown-unknown --profile "$profile" --locked
dir=$profile; [ "$profile" = dev ] && dir=debug
wasm=target/wasm32-unknown-unknown/$dir/score_wasm.wasm

rm -rf "$out"
mkdir -p "$out"
# The name section (function names for stack traces, 1.5 MB) and the producers section go.
flags=(--remove-name-section --remove-producers-section)
"$bindgen" --target nodejs "${flags[@]}" --out-dir "$out/node" "$wasm"
"$bindgen" --target web "${flags[@]}" --out-dir "$out/web" "$wasm"
# wasm-bindgen writes a package.json only for some targets; the package's own is below.
rm -f "$out"/node/package.json "$out"/web/package.json "$out"/*/.gitignore

version=$(awk -F'"' '/^version = / {print $2; exit}' Cargo.toml)
cat > "$out/package.json" <<JSON
{
  "name": "score-gen-wasm",
  "version": "$version",
  "description": "score-gen for JavaScript: validate and compile Score workloads (score.dev/v1b1) to Docker Compose, Kubernetes and Terraform, in the browser and in Node, with the CLI's diagnostics and bytes",
  "license": "Apache-2.0",
  "files": ["node/", "web/", "README.md"],
  "main": "./node/score_wasm.js",
  "types": "./node/score_wasm.d.ts",
  "exports": {
    ".": {
      "node": { "types": "./node/score_wasm.d.ts", "default": "./node/score_wasm.js" },
      "default": { "types": "./web/score_wasm.d.ts", "default": "./web/score_wasm.js" }
    },
    "./web": { "types": "./web/score_wasm.d.ts", "default": "./web/score_wasm.js" },
    "./web/score_wasm_bg.wasm": "./web/score_wasm_bg.wasm"
  },
  "sideEffects": false
}
JSON
cp crates/score-wasm/README.md "$out/README.md"

size=$(stat -c %s "$out/node/score_wasm_bg.wasm")
gz=$(gzip -9 -n -c "$out/node/score_wasm_bg.wasm" | wc -c)
echo "score-wasm package: $out (profile $profile; score_wasm_bg.wasm $size bytes, $gz gzipped)"
