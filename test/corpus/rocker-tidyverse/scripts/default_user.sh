# stand-in for rocker-org/rocker-versioned2 dockerfiles/scripts/default_user.sh
