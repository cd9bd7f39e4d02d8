#!/usr/bin/env bash
# The documents a newcomer reads first: README.md stays within 250 lines;
# every ```sh block of README.md and docs/usage.md runs as written, in order,
# from a directory laid out like the repository (build/fleetsim is the binary
# under test), unless the line before it says
# `<!-- example: skip: REASON -->` with a reason; README.md and docs/*.md
# cite no issue numbers and nothing outside the repository, and their
# relative links and #anchors resolve.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
lines=$(wc -l <"$SOURCE_DIR/README.md")
[ "$lines" -le 250 ] || fail "README.md has $lines lines (at most 250: manuals go to docs/)"
echo "ok: README.md has $lines lines"

# --- documents: no issue numbers, nothing outside, links that resolve -------------
"$PY" - "$SOURCE_DIR" <<'EOF' || fail "documents"
import os, re, sys
root = sys.argv[1]
docs = ["README.md"] + ["docs/" + f for f in sorted(os.listdir(os.path.join(root, "docs")))
                        if f.endswith(".md")]

def slug(title):
    s = re.sub(r"[`*_]", "", title.strip().lower())
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")

def anchors(path):
    out, fence = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        elif not fence and line.startswith("#"):
            out.add(slug(line.lstrip("#")))
    return out

bad = []
outside = [(r"(?i)\bissues?\s*#?\d+", "an issue number"), (r"DESIGN\.md", "DESIGN.md"),
           (r"/work/", "a path outside the repository"), (r"\bseeds/", "the seeds folder")]
for doc in docs:
    path = os.path.join(root, doc)
    text = open(path, encoding="utf-8").read()
    for pat, what in outside:
        for m in re.finditer(pat, text):
            bad.append(f"{doc}: cites {what}: '{m.group(0)}'")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        file, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
        if not os.path.exists(dest):
            bad.append(f"{doc}: link to {target}: no such file")
        elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
            bad.append(f"{doc}: link to {target}: no such heading")
print("\n".join(bad), file=sys.stderr)
print(f"checked {len(docs)} documents")
sys.exit(1 if bad else 0)
EOF
echo "ok: no issue numbers or outside references; every relative link resolves"

# --- the examples ---------------------------------------------------------------
work="$SCRATCH/repo"
mkdir -p "$work/build"
for entry in "$SOURCE_DIR"/*; do
  case "$(basename "$entry")" in build*) continue ;; esac
  ln -s "$entry" "$work/$(basename "$entry")"
done
ln -s "$FLEETSIM" "$work/build/fleetsim"
"$PY" - "$SOURCE_DIR" "$SCRATCH/examples" README.md docs/usage.md <<'EOF' || fail "extracting examples"
import os, re, sys
root, out = sys.argv[1], sys.argv[2]
os.makedirs(out)
n = skipped = 0
for doc in sys.argv[3:]:
    lines = open(os.path.join(root, doc), encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            j = lines.index("```", i + 1)
            body = "\n".join(lines[i + 1:j])
            prev = next((l for l in reversed(lines[:i]) if l.strip()), "")
            m = re.fullmatch(r"<!-- example: skip: (.+\S) -->", prev.strip())
            if m:
                skipped += 1
                print(f"skip {doc}:{i + 1}: {m.group(1)}")
            else:
                n += 1
                with open(os.path.join(out, f"{n:02d}.sh"), "w") as f:
                    f.write(f"# {doc}:{i + 1}\n{body}\n")
            i = j
        elif lines[i].startswith("```sh") or lines[i].startswith("```bash"):
            sys.exit(f"{doc}:{i + 1}: write shell examples as ```sh blocks")
        i += 1
print(f"{n} examples to run, {skipped} skipped with a reason")
if n < 5:
    sys.exit("fewer than 5 runnable examples: the extraction is broken")
EOF
for ex in "$SCRATCH"/examples/*.sh; do
  echo "example $(head -n1 "$ex" | cut -c3-): $(sed -n 2p "$ex")"
  (cd "$work" && bash -euo pipefail "$ex" </dev/null >"$SCRATCH/example.log" 2>&1) ||
    fail "example $(head -n1 "$ex" | cut -c3-) exited $?: $(tail -n 20 "$SCRATCH/example.log")"
done
[ -s "$work/first-run/fleet.h5" ] && [ -s "$work/seven-hours/report/report.md" ] &&
  [ -s "$work/first-run.om" ] || fail "the examples did not write what the README says"
echo "e2e_readme: all checks passed"
