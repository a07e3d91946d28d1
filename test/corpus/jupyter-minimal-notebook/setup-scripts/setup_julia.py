# stand-in for jupyter/docker-stacks images/minimal-notebook/setup-scripts/setup_julia.py
