#!/usr/bin/env bash
# Regenerates every oracle fixture under tests/reference/oracles/*/ by running the
# live oracles (R, PSPP). Each topic folder has a run.sh that writes its outputs
# next to its scripts. The test suite reads the committed outputs and never needs
# R or PSPP itself. Install the oracles with: apt-get install r-base-core pspp
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for run in "$here"/*/run.sh; do
  echo "== $run"
  (cd "$(dirname "$run")" && bash run.sh)
done
# The SPSS-file fixtures of the I/O tests (PSPP writes them from committed syntax).
echo "== tests/integration/io_fixtures/run.sh"
(cd "$here/../../integration/io_fixtures" && bash run.sh)
