#!/usr/bin/env bash
# Regenerates the printed outputs of the R oracles of kypho.beyond (base R and the
# recommended packages nlme and MASS that ship with it). exact_power.R takes ~30 s.
set -euo pipefail
cd "$(dirname "$0")"
Rscript power.R > power.out 2>&1
Rscript mixed_co2.R > mixed_co2.out 2>&1
Rscript exact_power.R > exact_power.out 2>&1
Rscript recommended.R > recommended.out 2>&1
