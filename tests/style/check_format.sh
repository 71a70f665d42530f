#!/usr/bin/env bash
# tests/style: every C and CUDA source follows .clang-format (clang-format 14, the version
# scripts/setup installs; other versions format differently, so they are not used). One case
# per file that differs, naming it; `clang-format -i FILE` fixes it.
# Args: SOURCE_ROOT. Exit 77 (skip, saying why) where clang-format 14 is absent.
set -u
root=$1
cf=$(command -v clang-format-14 || true)
if [ -z "$cf" ] && command -v clang-format >/dev/null &&
   clang-format --version | grep -q 'version 14\.'; then cf=$(command -v clang-format); fi
if [ -z "$cf" ]; then echo "SKIP clang-format 14 not installed (scripts/setup installs it)"; exit 77; fi
cd "$root" || exit 1
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files '*.c' '*.h' '*.cu' '*.cuh')
else
  files=$(find . -path ./build -prune -o -path './subprojects' -prune -o \
          \( -name '*.c' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' \) -print)
fi
pass=0 fail=0
for f in $files; do
  if "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then pass=$((pass + 1))
  else echo "FAIL clang-format $f (run: clang-format -i $f)"; fail=$((fail + 1)); fi
done
echo "PASS clang-format: $pass files formatted"
echo "$pass files passed, $fail failed"
test "$fail" -eq 0
