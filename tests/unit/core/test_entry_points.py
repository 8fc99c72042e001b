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


def _run_entry_point(prelude: str, *args: str) -> subprocess.CompletedProcess[str]:
    code = f"import sys\n{prelude}\nfrom kypho.cli import run\nsys.argv = ['kypho', *{args!r}]\nrun()\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_the_entry_point_runs_exit_handlers_and_keeps_the_exit_status() -> None:
    done = _run_entry_point("import atexit; atexit.register(print, 'handler ran')", "--version")
    assert (done.returncode, done.stdout) == (0, "kypho, version 0.1.0\nhandler ran\n")
    failed = _run_entry_point("", "analyze", "--out")
    assert failed.returncode == 2
    assert "Option '--out' requires an argument" in failed.stderr
    refused = _run_entry_point("", "validate", "no-such-file.csv")
    assert refused.returncode == 2, refused.stderr


def test_the_entry_point_waits_for_a_thread_still_running() -> None:
    # The thread ends only once the main thread has (Python's shutdown releases the
    # join), so it is still running whatever the machine's load when run() decides.
    prelude = (
        "import threading\n"
        "threading.Thread(target=lambda: (threading.main_thread().join(),"
        " print('thread done', flush=True))).start()"
    )
    done = _run_entry_point(prelude, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "kypho, version 0.1.0\nthread done\n"


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
