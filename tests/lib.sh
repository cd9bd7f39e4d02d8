# Shared helpers for the e2e_*.sh tests: a scratch directory removed on exit,
# mpirun with the test environment, and assertions that print what they saw.
set -euo pipefail
: "${FLEETSIM:?FLEETSIM must point at the fleetsim binary}"
: "${SOURCE_DIR:?SOURCE_DIR must point at the source tree}"
MPIEXEC=${MPIEXEC:-mpirun}
DATA="$SOURCE_DIR/tests/data"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/fleetsim-test.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

# run_np N ARGS...: fleetsim under mpirun with N ranks.
run_np() {
  local np=$1
  shift
  "$MPIEXEC" -np "$np" "$FLEETSIM" "$@"
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_fail STATUS PATTERN CMD...: CMD must exit with STATUS and print PATTERN on stderr.
expect_fail() {
  local want=$1 pattern=$2
  shift 2
  local out rc=0
  out=$("$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want; stderr: $out"
  grep -qE -- "$pattern" <<<"$out" || fail "'$*' stderr lacks /$pattern/: $out"
  echo "ok: $* -> $rc: $(head -n1 <<<"$out")"
}
