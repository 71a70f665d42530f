#!/usr/bin/env bash
# Runs the README's "Using the CLI" examples exactly as written, one case per command, in a
# scratch directory (data/, .cache/ and scripts/ linked from the source root, hylra on PATH).
# Commands that need a GPU (bench kernels / bench decode / --device cuda) run only where
# nvidia-smi finds one and are reported as SKIP otherwise. Not part of `scripts/test`: on 2
# cores (2026-12-04, AMX prefill) the profile takes 2 min, the pareto 1, the eval 2 and
# `hylra sweep` 8, about 13 min in all; run `meson test -C build --suite readme` (or this
# script: ROOT HYLRA_DIR).
set -u
root=$(cd "${1:-.}" && pwd)
bindir=$(cd "${2:-$root/build/cli}" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ln -s "$root/data" "$root/.cache" "$root/scripts" "$dir/"
export PATH="$bindir:$PATH"
# the block after "## Using the CLI", with backslash continuations joined
cmds=$(awk '/^## Using the CLI/{f=1} f&&/^```sh/{b=1;next} b&&/^```/{exit} b' "$root/README.md" |
       sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
[ -n "$cmds" ] || { echo "FAIL readme: no sh block after '## Using the CLI'"; exit 1; }
gpu=0; command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 && gpu=1
pass=0 fail=0
cd "$dir" || exit 1
while IFS= read -r line; do
  cmd=${line%%#*}                      # drop the trailing comment
  [ -n "${cmd// /}" ] || continue
  [[ $cmd =~ ^m=[^\ ]+\ *$ ]] && continue  # the model path; set for every command below
  case $cmd in
    *"bench kernels"*|*"bench decode"*|*"--device cuda"*)
      if [ $gpu = 0 ]; then echo "SKIP (no GPU) $cmd"; continue; fi ;;
  esac
  start=$(date +%s)
  if bash -c "m=data/models/SmolLM2-135M-Instruct.Q4_1.gguf; $cmd" >"$dir/out" 2>&1; then
    echo "PASS [$(( $(date +%s) - start )) s] $cmd"; pass=$((pass + 1))
  else
    echo "FAIL [$(( $(date +%s) - start )) s] $cmd"; tail -20 "$dir/out"; fail=$((fail + 1))
  fi
done <<< "$cmds"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
