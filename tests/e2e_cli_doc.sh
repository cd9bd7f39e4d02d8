#!/usr/bin/env bash
# docs/cli.md is `fleetsim help --markdown` (both come from the tables in
# src/app/cli.c and src/model/config.c, like --help); and every "Example:" of --help
# runs as written, in order, in one directory with `fleetsim` on PATH.
source "$(dirname "$0")/lib.sh"
"$FLEETSIM" help --markdown >"$SCRATCH/cli.md"
diff -u "$SOURCE_DIR/docs/cli.md" "$SCRATCH/cli.md" >&2 ||
  fail "docs/cli.md differs from 'fleetsim help --markdown': regenerate it with build/fleetsim help --markdown > docs/cli.md"
echo "ok: docs/cli.md is the output of fleetsim help --markdown"

"$FLEETSIM" --help >"$SCRATCH/help.txt"
# every option row of the table appears in both the help and the Markdown
for opt in $(grep -o '^  --[a-z-]*' "$SCRATCH/help.txt" | sort -u); do
  grep -q -- "\`$opt" "$SCRATCH/cli.md" || fail "$opt is in --help but not in docs/cli.md"
done
mkdir "$SCRATCH/bin" "$SCRATCH/work"
ln -s "$FLEETSIM" "$SCRATCH/bin/fleetsim"
export PATH="$SCRATCH/bin:$PATH"
n=0
while IFS= read -r example; do
  echo "example: $example"
  (cd "$SCRATCH/work" && bash -c "$example" </dev/null >"$SCRATCH/example.out" 2>&1) ||
    fail "--help example '$example' exited $?: $(tail -n 20 "$SCRATCH/example.out")"
  n=$((n + 1))
done < <(sed -n 's/^  Example: //p' "$SCRATCH/help.txt")
[ "$n" -ge 7 ] || fail "only $n examples in --help"
[ -s "$SCRATCH/work/first-run.om" ] && [ -s "$SCRATCH/work/random.json" ] ||
  fail "the examples did not write what they say"
echo "e2e_cli_doc: docs/cli.md current, $n --help examples run"
