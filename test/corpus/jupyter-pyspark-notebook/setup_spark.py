# stand-in for jupyter/docker-stacks images/pyspark-notebook/setup_spark.py
