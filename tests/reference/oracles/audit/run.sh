#!/usr/bin/env bash
# Regenerates audit_oracle.out from audit_oracle.R (needs R: apt-get install r-base-core).
set -euo pipefail
cd "$(dirname "$0")"
Rscript --vanilla audit_oracle.R > audit_oracle.out 2>&1
