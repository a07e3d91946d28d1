# stand-in for jupyter/docker-stacks images/base-notebook/jupyter_server_config.py
