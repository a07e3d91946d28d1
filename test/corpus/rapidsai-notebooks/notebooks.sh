#!/bin/bash
# stand-in for rapidsai/docker notebooks.sh
