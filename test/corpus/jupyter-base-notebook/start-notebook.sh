# stand-in for jupyter/docker-stacks images/base-notebook/start-notebook.sh
