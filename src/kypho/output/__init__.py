"""How kypho writes its files: the output-folder policy and the neutralising CSV/XLSX writer.

:mod:`kypho.output.folder` decides what kypho may write, replace and delete in
an output folder (only its own files, never the input, never a user's file);
:mod:`kypho.output.cells` neutralises spreadsheet formulas in every CSV and
XLSX cell kypho writes.
"""

from __future__ import annotations

from kypho.output.cells import neutralise, neutralise_frame, write_csv, write_xlsx
from kypho.output.folder import OutputFolder, open_output_folder, publish, staging_folder

__all__ = [
    "OutputFolder",
    "neutralise",
    "neutralise_frame",
    "open_output_folder",
    "publish",
    "staging_folder",
    "write_csv",
    "write_xlsx",
]
