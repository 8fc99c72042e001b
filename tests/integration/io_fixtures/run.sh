#!/usr/bin/env bash
# Regenerates the SPSS fixtures of tests/integration/test_io_roundtrip.py.
# Needs PSPP (apt-get install pspp) and kypho's virtual environment.
#   pspp_records.sav        written by PSPP from pspp_records.sps (an SPSS file kypho did not make)
#   pspp_records.csv        what PSPP printed about it
#   kypho_records.sav       written by kypho (make_kypho_sav.py)
#   kypho_records.pspp.csv  what PSPP reads from kypho's file (display.sps)
set -euo pipefail
cd "$(dirname "$0")"
PY="${PY:-../../../.venv/bin/python}"
pspp pspp_records.sps -o pspp_records.csv
"$PY" make_kypho_sav.py
pspp display.sps -o kypho_records.pspp.csv
