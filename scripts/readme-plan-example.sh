#!/usr/bin/env bash
# Prints the plan comment README.md shows: a clone of this repository's main,
# a branch that adds one Debian package to python-datascience (which
# jupyter-vscode builds on), then `envctl plan` and `envctl comment --dry-run`
# as the pull-request workflows run them. Paste its output over the example
# in README.md's GitHub section when the shipped environments change.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The checkout as it is, as main (a clone of a worktree or of another branch too).
git clone -q "$root" "$work/repo"
cd "$work/repo"
git checkout -q -B main
git checkout -q -b add-statsmodels
sed -i 's/python3-matplotlib \\$/python3-matplotlib python3-statsmodels \\/' environments/python-datascience/environment.yaml
git -c user.name='Ana Example' -c user.email=ana@example.com commit -q -am 'python-datascience: add statsmodels'
export GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=acme/environments GITHUB_RUN_ID=9876543210
# Offline: the same plan whatever registry answers on this machine (no base digests asked for).
node "$root/bin/envctl.js" plan --base main --offline --markdown "$work/plan.md" > /dev/null
node "$root/bin/envctl.js" comment "$work/plan.md" --dry-run
