"""Suite-wide settings.

Hypothesis runs derandomized: every run, in CI and here, tries the same examples,
so a red run is reproducible and a green one is not luck. Set
``HYPOTHESIS_PROFILE=explore`` to search with fresh random examples, and
``HYPOTHESIS_PROFILE=fuzz`` for the long fuzzing run of the file readers.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False)
# the long fuzzing run (tests/integration/test_fuzz_inputs.py): fresh random inputs
settings.register_profile("fuzz", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
