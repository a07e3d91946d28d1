#!/usr/bin/env bash
# The main job: validate every environment, render each into out/, make the
# default base image if the registry lacks it, then build, push and record
# every environment the ledger lacks (envctl sync), against the embedded
# registry on 127.0.0.1 and buildah; print the status and write the catalog
# site into out/site.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure.sh npm
bash scripts/ensure.sh apt buildah runc docker-registry debootstrap
node bin/envctl.js validate
node bin/envctl.js render --out "${ENVCTL_OUT:-out}"
node bin/envctl.js base
node bin/envctl.js sync
node bin/envctl.js status
node bin/envctl.js site --out "${ENVCTL_OUT:-out}/site"
