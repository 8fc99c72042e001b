"""Suite-wide settings.

Hypothesis runs derandomized: every run, in CI and here, tries the same examples,
so a red run is reproducible and a green one is not luck. No profile has a
deadline: an example that takes long on a loaded machine is not a failure (no
test asserts a time). Set
``HYPOTHESIS_PROFILE=explore`` to search with fresh random examples, and
``HYPOTHESIS_PROFILE=fuzz`` for the long fuzzing run of the file readers.

The report cache of the bundled cohort (:mod:`kypho.cache`) goes to a folder of
this test session, never the user's own cache.
"""

from __future__ import annotations

import os
import tempfile

from hypothesis import settings

os.environ["KYPHO_CACHE_DIR"] = tempfile.mkdtemp(prefix="kypho-test-cache-")

settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None)
# the long fuzzing run (tests/integration/test_fuzz_inputs.py): fresh random inputs
settings.register_profile("fuzz", derandomize=False, print_blob=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
