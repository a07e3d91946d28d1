#!/usr/bin/env bash
# The main job: validate every environment, then render each into out/.
# (Once builds exist this also builds, pushes and records them.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure.sh npm
node bin/envctl.js validate
node bin/envctl.js render --out "${ENVCTL_OUT:-out}"
