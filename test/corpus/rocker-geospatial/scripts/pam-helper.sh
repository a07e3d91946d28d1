# stand-in for rocker-org/rocker-versioned2 dockerfiles/scripts/pam-helper.sh
