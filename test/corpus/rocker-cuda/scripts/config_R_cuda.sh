# stand-in for rocker-org/rocker-versioned2 dockerfiles/scripts/config_R_cuda.sh
