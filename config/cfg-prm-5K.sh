# The seed's large-scale search settings (cfg-prm-5K.sh). The variables not
# set here take async-search's defaults (see cfg-prm-1.sh).
INIT_SIZE=${INIT_SIZE:-40000}
MAX_EVALS=${MAX_EVALS:-60000}
NUM_BUFFER=${NUM_BUFFER:-20000}
MAX_THRESHOLD=${MAX_THRESHOLD:-120}
