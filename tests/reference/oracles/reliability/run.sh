#!/usr/bin/env bash
# Regenerates the reliability oracles with R, psych and vcd (Debian r-cran-psych, r-cran-vcd).
# The output is committed; the tests never run R themselves.
set -euo pipefail
cd "$(dirname "$0")"
Rscript --vanilla reliability_oracle.R > reliability_oracle.out 2>&1
