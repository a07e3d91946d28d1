# stand-in for rocker-org/rocker-versioned2 dockerfiles/scripts/install_quarto.sh
