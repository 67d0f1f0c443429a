# The seed's large-scale system settings (cfg-sys-5K.sh). The variables not
# set here take their defaults (see cfg-sys-1.sh).
PROCS=${PROCS:-5000}
WALLTIME=${WALLTIME:-24:00:00}
