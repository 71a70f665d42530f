# Sourced by the shell tests (tests/*/test_*cli.sh): a scratch directory $dir removed on exit,
# and check NAME COMMAND... which runs the command, prints PASS/FAIL NAME like the C harness
# (with the command's output on failure) and counts into $pass and $fail.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass=0 fail=0
check() {
  local name=$1; shift
  if "$@" >"$dir/out" 2>&1; then echo "PASS $name"; pass=$((pass + 1))
  else echo "FAIL $name"; cat "$dir/out"; fail=$((fail + 1)); fi
}
