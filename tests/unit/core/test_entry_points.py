"""``python -m kypho`` and ``kypho.validate`` as a function, whatever was imported first."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd


def test_python_m_kypho_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kypho", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "kypho, version 0.1.0\n"


def test_kypho_validate_is_callable_after_importing_the_old_module() -> None:
    code = (
        "import kypho, kypho.io, kypho.validate\n"
        "import pandas as pd\n"
        "r = kypho.validate(pd.DataFrame({'patient_id': ['P1'], 'group': ['control'],"
        " 'sex': ['male'], 'age': [70], 'level': ['L1']}))\n"
        "from kypho.validate import validate, ValidationResult\n"
        "from kypho.validation import validate as v2\n"
        "assert validate is v2 and isinstance(r, ValidationResult)\n"
        "print(r.summary())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "1 row read: 1 accepted, 0 rejected (0 problems)\n"


def test_top_level_validate_is_the_function() -> None:
    import kypho
    import kypho.validate  # the old module name must not shadow the function

    raw = pd.DataFrame(
        {"patient_id": ["P1"], "group": ["control"], "sex": ["male"], "age": [70], "level": ["L1"]}
    )
    assert kypho.validate(raw).n_accepted == 1
