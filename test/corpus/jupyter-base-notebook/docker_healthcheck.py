# stand-in for jupyter/docker-stacks images/base-notebook/docker_healthcheck.py
