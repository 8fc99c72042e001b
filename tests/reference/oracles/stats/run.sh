#!/usr/bin/env bash
# Regenerates the statistics oracles: R (base stats) and PSPP. Outputs sit next
# to their scripts and are committed; the tests never run R or PSPP themselves.
set -euo pipefail
cd "$(dirname "$0")"
Rscript --vanilla stats_oracle.R > stats_oracle.out 2>&1
pspp -O format=csv stats_pspp.sps -o stats_pspp.csv > /dev/null
