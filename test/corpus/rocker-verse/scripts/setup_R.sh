# stand-in for rocker-org/rocker-versioned2 dockerfiles/scripts/setup_R.sh
