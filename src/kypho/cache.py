"""A cache of report parts that are the same on every run of the bundled cohort.

``kypho analyze`` without an input file (``make run``) analyses the bundled
synthetic cohort with the built-in schema and plan: its figures and its "Beyond
the paper" section are then the same bytes on every run, yet drawing them
(matplotlib, simulations, model fits) is most of the run's time. They are kept
under the user's cache folder (``$KYPHO_CACHE_DIR``, else
``$XDG_CACHE_HOME/kypho``, else ``~/.cache/kypho``) by a key that covers
everything they depend on: the input file's SHA-256, the source of every kypho
module and data file, and the versions of Python, NumPy, SciPy, pandas and
matplotlib. Any change gives a new key, so a stale entry is never used; entries
hold only what the report shows of the synthetic cohort. ``KYPHO_CACHE=0``
turns the cache off.

Only the bundled cohort is cached: a user's own data never leave the report
folder.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

__all__ = ["cache_dir", "enabled", "fingerprint", "load", "store"]


def enabled() -> bool:
    """False when ``KYPHO_CACHE=0``."""
    return os.environ.get("KYPHO_CACHE", "1").strip() != "0"


def cache_dir() -> Path:
    """The folder of the cache (not created)."""
    explicit = os.environ.get("KYPHO_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kypho"


@functools.cache
def fingerprint() -> str:
    """SHA-256 over kypho's own files (code and data) and its libraries' versions."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".yaml", ".csv", ".json") and path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    for package in ("numpy", "scipy", "pandas", "matplotlib"):
        try:
            digest.update(f"{package}={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package}=absent".encode())
    return digest.hexdigest()


def _entry(kind: str, key: str) -> Path:
    name = hashlib.sha256(f"{kind}\0{key}\0{fingerprint()}".encode()).hexdigest()[:32]
    return cache_dir() / f"{kind}-{name}"


def load(kind: str, key: str) -> dict[str, bytes] | None:
    """The files stored for (``kind``, ``key``), or None (absent, disabled, unreadable)."""
    if not enabled():
        return None
    folder = _entry(kind, key)
    try:
        names = (folder / "FILES").read_text(encoding="utf-8").splitlines()
        return {name: (folder / name).read_bytes() for name in names}
    except OSError:
        return None


def store(kind: str, key: str, files: Mapping[str, bytes]) -> None:
    """Keep ``files`` (flat names) for (``kind``, ``key``); failures only skip the cache."""
    if not enabled():
        return
    target = _entry(kind, key)
    if target.exists():
        return
    work: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        for name, payload in files.items():
            (work / name).write_bytes(payload)
        (work / "FILES").write_text("\n".join(files), encoding="utf-8")
        work.rename(target)
    except OSError:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
