# shellcheck shell=bash
# Example site hook. Every fleetsim job sources the file that
# FLEETSIM_SITE_HOOK names before it starts anything, so what it loads or
# exports reaches fleetsim, srun and python: copy this file, adapt it and
# point FLEETSIM_SITE_HOOK (or the site file) at the copy. FLEETSIM_STEP says
# which job is starting: simulate, escalate, score or llm-server. Unset
# variables may be read here; a command that fails ends the job (exit 2)
# with one message naming it, so a module that is not there is not
# discovered an hour later as a missing library. The hook is sourced
# inside a shell function: set variables with export or plain assignments
# (declare without -g would make them local to it).
case ${FLEETSIM_STEP:-} in
  simulate | escalate | score)
    # The MPI and parallel HDF5 that fleetsim was built with, e.g. with
    # Lmod or environment modules:
    #   module purge
    #   module load gcc/13.2 openmpi/4.1.6 hdf5/1.14.3-mpi
    # or with Spack:
    #   source /opt/spack/share/spack/setup-env.sh
    #   spack load hdf5+mpi ^openmpi
    ;;
  llm-server)
    # The model server and its GPU stack, e.g.
    #   module load cuda/12.4
    #   source ~/venvs/vllm/bin/activate
    ;;
esac
if [ "${FLEETSIM_STEP:-}" = score ] && [ "${FLEETSIM_REPORT:-0}" = 1 ]; then
  # A Python with h5py, numpy and matplotlib for analysis/report.py, e.g. a
  # conda environment (then FLEETSIM_PYTHON=python3 finds its python):
  #   source ~/miniforge3/etc/profile.d/conda.sh
  #   conda activate fleetsim-analysis
  :
fi
