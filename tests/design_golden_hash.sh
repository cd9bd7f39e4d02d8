#!/usr/bin/env bash
# Golden hash: a small fixed run (tests/data/golden.json: 48 nodes in 3
# racks, 3 h; tests/data/golden_scenarios.json: five fault kinds) at np 2
# and np 3 must reproduce the SHA-256 of every dataset under /telemetry and
# /events checked in as tests/data/golden_hash.txt. What is hashed is each
# dataset's values (path, type, shape, raw bytes; a table field by field),
# not the file: attributes such as created_utc and git_commit change every
# run. Any change of these outputs is a conscious, reviewed decision:
#   tests/design_golden_hash.sh --update
# runs the same two runs and rewrites tests/data/golden_hash.txt; commit it
# with the change that explains it. By hand, it uses build/fleetsim unless
# FLEETSIM names another binary.
SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
FLEETSIM=${FLEETSIM:-$SOURCE_DIR/build/fleetsim}
source "$(dirname "$0")/lib.sh"
update=0
case "${1:-}" in
"") ;;
--update) update=1 ;;
*) fail "usage: $0 [--update]" ;;
esac
GOLDEN="$SOURCE_DIR/tests/data/golden_hash.txt"
PY=/usr/bin/python3

# hashes DIR/fleet.h5 into DIR.hash: one line per dataset, "PATH SHAPE SHA256"
hash_run() {
  "$PY" - "$1/fleet.h5" >"$1.hash" <<'EOF'
import hashlib, sys
import h5py, numpy as np

def raw(a):
    if a.dtype.kind == "O":  # variable-length strings: their bytes, NUL-separated
        return b"\0".join(v if isinstance(v, bytes) else str(v).encode() for v in a.ravel())
    return np.ascontiguousarray(a).tobytes()

with h5py.File(sys.argv[1], "r") as f:
    names = []
    for top in ("telemetry", "events"):
        f[top].visititems(lambda n, o, t=top: names.append(f"/{t}/{n}")
                          if isinstance(o, h5py.Dataset) else None)
    for name in sorted(names):
        a = f[name][()]
        h = hashlib.sha256(f"{name} {a.dtype.descr} {a.shape}".encode())
        if a.dtype.names:  # a table: field by field (padding between fields is no data)
            for field in a.dtype.names:
                h.update(raw(a[field]))
        else:
            h.update(raw(a))
        print(name, "x".join(map(str, a.shape)) or "scalar", h.hexdigest())
EOF
}

for np in 2 3; do
  out="$SCRATCH/np$np"
  run_np "$np" run --quiet --no-llm --config "$DATA/golden.json" \
    --scenarios "$DATA/golden_scenarios.json" --out "$out" >"$out.log" 2>&1 ||
    fail "np $np: the golden run failed: $(tail -n 5 "$out.log")"
  hash_run "$out" || fail "np $np: cannot hash $out/fleet.h5"
  [ "$(wc -l <"$out.hash")" -gt 60 ] || fail "np $np: only $(wc -l <"$out.hash") datasets hashed"
done
diff "$SCRATCH/np2.hash" "$SCRATCH/np3.hash" >&2 ||
  fail "np 2 and np 3 give different datasets (above): the outputs depend on the rank count"
echo "ok: np 2 and np 3 agree on $(wc -l <"$SCRATCH/np2.hash") datasets"

if [ "$update" = 1 ]; then
  {
    echo "# SHA-256 of each /telemetry and /events dataset of the golden run, written by"
    echo "# tests/design_golden_hash.sh --update. Changing it is a reviewed decision."
    cat "$SCRATCH/np2.hash"
  } >"$GOLDEN.tmp" && mv "$GOLDEN.tmp" "$GOLDEN"
  echo "updated $GOLDEN: review 'git diff' and commit it with the change that explains it"
  exit 0
fi

[ -f "$GOLDEN" ] || fail "$GOLDEN is missing: create it with $0 --update"
report=$("$PY" - "$GOLDEN" "$SCRATCH/np2.hash" <<'EOF'
import sys
def load(p):
    return {l.split()[0]: l.split()[1:] for l in open(p) if l.strip() and not l.startswith("#")}
want, got = load(sys.argv[1]), load(sys.argv[2])
for name in sorted(set(want) | set(got)):
    if name not in got:
        print(f"  missing: {name} (in the golden hash, not in the run)")
    elif name not in want:
        print(f"  new:     {name} {got[name][0]} (not in the golden hash)")
    elif want[name] != got[name]:
        shape = f" (shape {want[name][0]} -> {got[name][0]})" if want[name][0] != got[name][0] else ""
        print(f"  changed: {name}{shape}")
EOF
) || fail "cannot compare with $GOLDEN"
if [ -n "$report" ]; then
  echo "FAIL: the golden run's outputs differ from tests/data/golden_hash.txt:" >&2
  echo "$report" >&2
  echo "If the change is intended, run 'tests/design_golden_hash.sh --update' and commit" >&2
  echo "tests/data/golden_hash.txt with the change that explains it (docs/testing.md)." >&2
  exit 1
fi
echo "ok: the golden run matches tests/data/golden_hash.txt ($(grep -vc '^#' "$GOLDEN") datasets)"
