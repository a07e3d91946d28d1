# stand-in for rocker-org/rocker-versioned2 dockerfiles/scripts/init_userconf.sh
