# Table rows for the bad-input tests (e2e_bad_input.sh,
# reliability_bad_input_archive.sh); source after lib.sh.
#   row NPS EXIT PATTERN ARGS...
# runs `fleetsim ARGS` at each rank count of NPS ("0 2": 0 is a plain
# process without mpirun, N is mpirun -np N) with a timeout, and requires: every rank exits EXIT (not a signal, not a timeout),
# stderr matches PATTERN (ERE) exactly once (one message, printed by one
# rank), no sanitizer or crash report, and, when ARGS has --out DIR, no
# DIR/fleet.h5 and no DIR/results (nothing claims to be complete).
BAD_TIMEOUT=${BAD_TIMEOUT:-120}
ROWS=0
row() {
  local nps=$1 want=$2 pattern=$3
  shift 3
  local out="" prev=""
  for a in "$@"; do
    [ "$prev" = --out ] && out=$a
    prev=$a
  done
  for np in $nps; do
    local ranks="$SCRATCH/ranks" err="$SCRATCH/row.err" rc=0
    rm -rf "$ranks" && mkdir -p "$ranks"
    local launch=("$MPIEXEC" -np "$np") nranks=$np
    [ "$np" -eq 0 ] && launch=() && nranks=1
    # Every rank records its own status; mpirun must not kill the others
    # when the first one exits non-zero (it then returns 0 itself).
    OMPI_MCA_orte_abort_on_non_zero_status=0 RANKS=$ranks timeout -k 5 "$BAD_TIMEOUT" "${launch[@]}" bash -c \
      '"$0" "$@"; rc=$?; echo $rc >"$RANKS/${OMPI_COMM_WORLD_RANK:-0}"; exit $rc' \
      "$FLEETSIM" "$@" >/dev/null 2>"$err" || rc=$?
    local what="np $np: fleetsim $*"
    [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "$what: hung (killed after ${BAD_TIMEOUT} s)"
    local n
    n=$(ls "$ranks" | wc -l)
    [ "$n" -eq "$nranks" ] || fail "$what: $n of $nranks ranks exited normally (rc $rc); stderr: $(cat "$err")"
    for f in "$ranks"/*; do
      [ "$(cat "$f")" -eq "$want" ] ||
        fail "$what: rank ${f##*/} exited $(cat "$f"), expected $want; stderr: $(cat "$err")"
    done
    if grep -qE 'Sanitizer|runtime error:|Segmentation fault|core dumped|signal [0-9]+|MPI_ABORT' "$err"; then
      fail "$what: crash or sanitizer report: $(cat "$err")"
    fi
    local hits
    hits=$(grep -cE -- "$pattern" "$err" || true)
    [ "$hits" -eq 1 ] || fail "$what: stderr has /$pattern/ $hits times (want once): $(cat "$err")"
    if [ -n "$out" ] && [ -d "$out" ]; then
      [ ! -e "$out/fleet.h5" ] || fail "$what: $out/fleet.h5 exists after a failed run"
      [ ! -e "$out/results" ] || fail "$what: $out/results exists after a failed run"
    fi
  done
  ROWS=$((ROWS + 1))
  echo "ok: [$nps] $want: $(grep -m1 -E -- "$pattern" "$err" | cut -c1-150)"
}

# put FILE TEXT: writes TEXT (printf %s) to FILE.
put() { printf '%s' "$2" >"$1"; }

# The bytes of one node-scrape in the archive and the window (every GPU and
# node metric of the catalogue, 4 B each), as `fleetsim validate` states
# them: size messages are checked against this, not against a count of
# today's metrics. A disk estimate is read the same way: validate_disk
# ARGS... prints "TOTAL|ARCHIVE" ("2.19 TB|2.19 TB").
NODE_SCRAPE_BYTES=$("$FLEETSIM" validate --set hours=1 --scenarios none |
  sed -n 's/.* scrapes x [0-9]* nodes x \([0-9]*\) B: keys .*/\1/p')
[ -n "$NODE_SCRAPE_BYTES" ] || fail "validate states no bytes per node-scrape"
validate_disk() {
  "$FLEETSIM" validate "$@" |
    sed -n 's/^fleetsim: disk: about \([0-9.]* [kMGTP]*B\) in the output directory: archive \([0-9.]* [kMGTP]*B\) .*/\1|\2/p'
}
