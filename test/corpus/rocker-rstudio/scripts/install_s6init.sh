# stand-in for rocker-org/rocker-versioned2 dockerfiles/scripts/install_s6init.sh
