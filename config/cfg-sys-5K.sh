# The seed's large-scale system settings (cfg-sys-5K.sh). The variables not
# set here take async-search's defaults (see cfg-sys-1.sh).
PROCS=${PROCS:-5000}
PPN=${PPN:-1}
WALLTIME=${WALLTIME:-06:00:00}
QUEUE=${QUEUE:-}
PROJECT=${PROJECT:-}
