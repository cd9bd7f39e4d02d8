# Shared by the slurm_*.sh tests (sourced after lib.sh): starts a private
# single-node Slurm in $SCRATCH/cluster (slurm/local_cluster.sh), stops it on
# exit, points the client tools at it (SLURM_CONF); exits 77 (skipped) where
# Slurm or munge is not installed. The caller's environment loses any
# SLURM_*/SBATCH_* variables, so an outer allocation cannot leak in.
for v in $(compgen -e | grep -E '^(SLURM|SBATCH|SALLOC|SRUN|SQUEUE)_' || true); do unset "$v"; done
CLUSTER="$SCRATCH/cluster"
cleanup() {
  bash "$SOURCE_DIR/slurm/local_cluster.sh" stop "$CLUSTER" || true
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
rc=0
bash "$SOURCE_DIR/slurm/local_cluster.sh" start "$CLUSTER" >"$SCRATCH/cluster.env" || rc=$?
if [ "$rc" -eq 77 ]; then
  echo "SKIP: no usable Slurm here (see the message above)"
  exit 77
fi
[ "$rc" -eq 0 ] || fail "the private Slurm did not start (exit $rc)"
export SLURM_CONF="$CLUSTER/slurm.conf"
