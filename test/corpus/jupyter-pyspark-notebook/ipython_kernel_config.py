# stand-in for jupyter/docker-stacks images/pyspark-notebook/ipython_kernel_config.py
