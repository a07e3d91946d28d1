# stand-in for rapidsai/docker test_notebooks.py
