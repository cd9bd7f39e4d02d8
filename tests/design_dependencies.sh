#!/usr/bin/env bash
# design_dependencies: every #include of a fleetsim header points down or
# sideways in the layer order of docs/architecture.md, <mpi.h> appears only in
# mpi/ and <hdf5.h> (or the high-level <hdf5_hl.h>) only in io/. Scenario
# ground truth (scenarios/) is included only by pipeline/score and src/app. A
# synthetic tree with one wrong include of each sort must be refused, so the
# check itself can fail.
set -euo pipefail
src=${SOURCE_DIR:?SOURCE_DIR is not set}

# folder: the folders its files may include (besides itself). The generated
# version.h counts as src/core.
rules='
src/core:
mpi: src/core
src/model: src/core
scenarios: src/core src/model
io: src/core mpi src/model
pipeline/detect: src/core mpi src/model
pipeline/llm: src/core src/model pipeline/detect
pipeline/score: src/core mpi src/model io scenarios pipeline/detect pipeline/llm
src/app: src/core mpi src/model scenarios io pipeline/detect pipeline/llm pipeline/score
'

# check_tree ROOT: prints one line per violation; returns 1 if there is any.
check_tree() {
  local root=$1 bad=0 file folder allowed inc target
  while IFS= read -r file; do
    folder=''
    allowed=''
    while IFS=: read -r key deps; do
      [ -n "$key" ] || continue
      if [[ $file == "$key"/* && ${#key} -gt ${#folder} ]]; then
        folder=$key
        allowed="$key $deps"
      fi
    done <<<"$rules"
    if [ -z "$folder" ]; then
      echo "$file: in no layer of tests/design_dependencies.sh (add its folder there and to docs/architecture.md)"
      bad=1
      continue
    fi
    while IFS= read -r inc; do
      target=${inc#*\"}
      target=${target%\"*}
      [ "$target" = version.h ] && target=src/core/version.h
      local ok=0 dep
      for dep in $allowed; do
        [[ $target == "$dep"/* ]] && ok=1
      done
      if [ "$ok" = 0 ]; then
        echo "$file: includes \"$target\" against the layer order ($folder may include: $allowed)"
        bad=1
      fi
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$root/$file" || true)
    if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<mpi\.h>' "$root/$file" &&
      [ "$folder" != mpi ]; then
      echo "$file: includes <mpi.h> outside mpi/"
      bad=1
    fi
    if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<hdf5(_hl)?\.h>' "$root/$file" &&
      [ "$folder" != io ]; then
      echo "$file: includes <hdf5.h> or <hdf5_hl.h> outside io/"
      bad=1
    fi
  done < <(cd "$root" && find src mpi io scenarios pipeline -name '*.[ch]' | sort)
  return "$bad"
}

if ! out=$(check_tree "$src"); then
  echo "$out"
  echo "design_dependencies: FAIL: includes against the layer order (above)"
  exit 1
fi
echo "design_dependencies: every include in $src points down or sideways"

# The check must refuse a tree with violations.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{src/core,mpi,src/model,scenarios,io,pipeline/detect,pipeline/llm,pipeline/score,src/app}
printf '#include "pipeline/score/scorer.h"\n' >"$tmp/io/bad_up.c"
printf '#include "scenarios/scenario.h"\n' >"$tmp/pipeline/detect/bad_truth.c"
printf '#include "scenarios/scenario.h"\n' >"$tmp/pipeline/llm/bad_truth.c"
printf '#include <hdf5.h>\n' >"$tmp/src/model/bad_hdf5.c"
printf '#include <hdf5_hl.h>\n' >"$tmp/pipeline/llm/bad_hdf5_hl.c"
printf '#include <mpi.h>\n' >"$tmp/pipeline/detect/bad_mpi.c"
printf '#include "src/app/sim.h"\n' >"$tmp/src/core/bad_up.h"
printf '#include "scenarios/scenario.h"\n#include "io/archive.h"\n' >"$tmp/pipeline/score/good.c"
if out=$(check_tree "$tmp"); then
  echo "design_dependencies: FAIL: a tree with wrong includes passed"
  exit 1
fi
for want in 'io/bad_up.c: includes "pipeline/score/scorer.h"' \
  'pipeline/detect/bad_truth.c: includes "scenarios/scenario.h"' \
  'pipeline/llm/bad_truth.c: includes "scenarios/scenario.h"' \
  'src/model/bad_hdf5.c: includes <hdf5.h>' \
  'pipeline/llm/bad_hdf5_hl.c: includes <hdf5.h> or <hdf5_hl.h>' \
  'pipeline/detect/bad_mpi.c: includes <mpi.h>' \
  'src/core/bad_up.h: includes "src/app/sim.h"'; do
  grep -qF "$want" <<<"$out" || {
    echo "design_dependencies: FAIL: the check missed: $want"
    echo "$out"
    exit 1
  }
done
if grep -q 'pipeline/score/good.c' <<<"$out"; then
  echo "design_dependencies: FAIL: a permitted include was refused"
  echo "$out"
  exit 1
fi
echo "design_dependencies: a tree with wrong includes is refused (7 of 7 found)"
