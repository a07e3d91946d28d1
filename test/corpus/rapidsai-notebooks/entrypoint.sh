#!/bin/bash
# stand-in for rapidsai/docker entrypoint.sh
