# stand-in for devcontainers/images src/python/.devcontainer/scripts/install-subversion.sh
