"""The output-folder policy: kypho replaces only files it wrote itself.

Every command that writes several files into a folder (``kypho analyze --out
DIR``) goes through this module, which holds to these rules:

1. **kypho replaces or deletes only its own files.** A file is kypho's when the
   folder's ``MANIFEST.json`` carries kypho's marker (``"generator": "kypho"``)
   and lists the file with the SHA-256 it still has. Another tool's
   ``MANIFEST.json`` is never read as a list of files to delete; a file changed
   after kypho wrote it is no longer kypho's.
2. **Never the input.** An input file inside the folder that a new file would
   replace (``results.csv`` as input, say) is refused, whatever the options.
3. **Never a file of the user's.** A new file whose name is taken by a file
   kypho did not write (``report.html``, ``figures/figure1_vas.png``,
   another tool's ``MANIFEST.json``) is refused, whatever the options; a
   symbolic link is never followed.
4. **A foreign folder needs ``force``.** A folder that is not empty and has no
   kypho manifest is refused unless ``force=True`` (``--force``); with it kypho
   writes its files beside the others and still replaces or deletes none of them.
5. **All or nothing.** The files are written into a hidden staging folder
   ``.kypho-partial-*`` inside the output folder (marked with a
   ``.kypho-staging.json`` naming the process), moved into place only when
   complete, and ``MANIFEST.json`` is written last. A staging folder left by a
   killed run is removed by the next run, when its marker shows it is kypho's
   and its process is gone; anything else of that name is left alone.

Failures of the file system (a read-only folder, a full disk) become
:class:`~kypho.errors.InputFileError` with the folder named.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kypho.errors import InputFileError, KyphoError

__all__ = [
    "GENERATOR",
    "MANIFEST",
    "STAGING_MARKER",
    "STAGING_PREFIX",
    "OutputFolder",
    "files_manifest",
    "open_output_folder",
    "publish",
    "staging_folder",
]

#: The marker kypho writes into its MANIFEST.json and staging markers.
GENERATOR = "kypho"
#: The manifest's file name.
MANIFEST = "MANIFEST.json"
#: Prefix of the hidden staging folders.
STAGING_PREFIX = ".kypho-partial-"
#: The marker file inside a staging folder.
STAGING_MARKER = ".kypho-staging.json"
_SHOWN = 5


@dataclass(frozen=True)
class OutputFolder:
    """An output folder checked against the policy (see the module docstring).

    Attributes
    ----------
    path
        The folder (created if it did not exist).
    force
        Whether writing beside files kypho did not write was allowed.
    owned
        ``{relative path: SHA-256}`` of the files kypho wrote and that are
        unchanged since; only these may be replaced or deleted.
    protected
        Resolved paths of the run's input files: never replaced.
    """

    path: Path
    force: bool = False
    owned: Mapping[str, str] = field(default_factory=dict)
    protected: frozenset[Path] = frozenset()

    def check(self, names: Iterable[str]) -> None:
        """Refuse now if any of the relative paths ``names`` may not be written.

        A name ending in ``/`` is a folder kypho writes files into.

        Raises
        ------
        InputFileError
            If a name is an input file, is taken by a file (or folder) kypho did
            not write, or lies in a folder holding files kypho did not write.
        """
        folders: set[str] = set()
        for name in sorted(set(names)):
            parts = Path(name).parts
            folders.update(Path(*parts[:depth]).as_posix() for depth in range(1, len(parts)))
            if name.endswith("/"):
                folders.add(name.rstrip("/"))
            else:
                self._check_file(name)
        for name in sorted(folders):
            self._check_folder(name)

    def _check_folder(self, name: str) -> None:
        target = self.path / name
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            raise InputFileError(
                f"kypho will not write into {str(target)!r}: it is not a folder kypho made "
                "(a file or a link); move it away or choose another --out (--force does not "
                "override this)"
            )
        if not target.is_dir():
            return
        foreign = sorted(
            p.relative_to(self.path).as_posix()
            for p in target.rglob("*")
            if not p.is_dir() or p.is_symlink()
            if self.owned.get(p.relative_to(self.path).as_posix()) is None
        )
        if foreign:
            shown = ", ".join(foreign[:_SHOWN]) + (", ..." if len(foreign) > _SHOWN else "")
            raise InputFileError(
                f"kypho will not write into {str(target)!r}: the folder holds files kypho did "
                f"not write ({shown}); move them away or choose another --out (--force does "
                "not override this)"
            )

    def _check_file(self, name: str) -> None:
        target = self.path / name
        if _resolved(target) in self.protected:
            raise InputFileError(
                f"the input file {str(target)!r} is inside the output folder and the report "
                f"would replace it with its own {name}; kypho never overwrites its input: "
                "move the input or choose another --out"
            )
        if target.is_symlink() or target.is_dir():
            raise InputFileError(
                f"kypho will not replace {str(target)!r}: it is a "
                f"{'link' if target.is_symlink() else 'folder'} kypho did not write; move it "
                "away or choose another --out (--force does not override this)"
            )
        if target.exists() and self.owned.get(name) != _sha256(target):
            raise InputFileError(
                f"kypho will not replace {str(target)!r}: kypho did not write it (or it was "
                "changed since); move it away or choose another --out (--force does not "
                "override this)"
            )


def open_output_folder(
    path: str | Path, *, force: bool = False, inputs: Iterable[str | Path] = ()
) -> OutputFolder:
    """Create or check the output folder; remove staging folders left by killed runs.

    Parameters
    ----------
    path
        The output folder; created (with its parents) if missing.
    force
        Allow a folder that is not empty and has no kypho manifest; kypho then
        writes beside the files there, replacing and deleting none of them.
    inputs
        The run's input files, which are never replaced.

    Returns
    -------
    OutputFolder

    Raises
    ------
    InputFileError
        If the path is a file, cannot be created or written, or is a foreign,
        non-empty folder and ``force`` is false.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise InputFileError(f"--out {str(folder)!r} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputFileError(
            f"cannot create the output folder {str(folder)!r}: {exc.strerror or exc}"
        ) from exc
    if not _writable(folder):
        raise InputFileError(
            f"cannot write into the output folder {str(folder)!r}: it is read-only for you"
        )
    _remove_stale_staging(folder)
    owned, is_kypho = _owned_files(folder)
    if not is_kypho and not force:
        others = sorted(entry.name for entry in folder.iterdir() if not _is_live_staging(entry))
        if others:
            shown = ", ".join(others[:_SHOWN]) + (", ..." if len(others) > _SHOWN else "")
            raise InputFileError(
                f"kypho will not write into {str(folder)!r}: the folder is not empty "
                f"({len(others)} entr{'y' if len(others) == 1 else 'ies'}: {shown}) and holds "
                f"no report of kypho's (no kypho {MANIFEST}); choose an empty or new folder, "
                "or pass --force to write beside those files (kypho still replaces and "
                "deletes none of them)"
            )
    protected = frozenset(_resolved(Path(p)) for p in inputs)
    return OutputFolder(folder, force=force, owned=owned, protected=protected)


@contextlib.contextmanager
def staging_folder(folder: OutputFolder) -> Iterator[Path]:
    """A marked, hidden staging folder inside ``folder``, removed on the way out."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder.path))
        marker = {
            "generator": GENERATOR,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        (staging / STAGING_MARKER).write_text(json.dumps(marker), encoding="utf-8")
    except OSError as exc:
        raise InputFileError(
            f"cannot write into the output folder {str(folder.path)!r}: {exc.strerror or exc}"
        ) from exc
    try:
        yield staging
    except KyphoError:
        raise
    except OSError as exc:
        raise InputFileError(
            f"cannot write the report into {str(folder.path)!r}: {exc.strerror or exc}; "
            "nothing was published"
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish(folder: OutputFolder, staging: Path, manifest_text: str) -> list[str]:
    """Move every file of ``staging`` into ``folder``; ``MANIFEST.json`` last.

    Files of a previous kypho report that this run did not write again are
    deleted, provided they are unchanged since kypho wrote them. Before
    anything is moved, a manifest marked ``"complete": false`` lists both the
    old and the new files, so a run killed half-way leaves a folder whose files
    are all still recognised as kypho's.

    Returns
    -------
    list of str
        The relative paths published.

    Raises
    ------
    InputFileError
        If a file may not be written (see :meth:`OutputFolder.check`) or the file
        system fails; nothing of the new report is published in the first case.
    """
    files = sorted(
        p.relative_to(staging).as_posix()
        for p in staging.rglob("*")
        if p.is_file() and p.name != STAGING_MARKER
    )
    folder.check([*files, MANIFEST])
    new = {name: _sha256(staging / name) for name in files}
    stale = sorted(name for name in folder.owned if name not in new and name != MANIFEST)
    try:
        pending = {"generator": GENERATOR, "complete": False, "files": [], "owned": []}
        pending["owned"] = [
            {"path": name, "sha256": digest}
            for name, digest in [*folder.owned.items(), *new.items()]
        ]
        _write_manifest(folder.path, json.dumps(pending, indent=2))
        for name in files:
            target = folder.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, target)
        for name in stale:
            target = folder.path / name
            if (
                target.is_file()
                and not target.is_symlink()
                and _sha256(target) == folder.owned[name]
            ):
                target.unlink()
                _remove_empty_parents(target.parent, folder.path)
        document = json.loads(manifest_text)
        marked = {"generator": GENERATOR, **document}
        _write_manifest(folder.path, json.dumps(marked, indent=2, ensure_ascii=False))
    except KyphoError:
        raise
    except OSError as exc:
        raise InputFileError(
            f"cannot publish the report in {str(folder.path)!r}: {exc.strerror or exc}"
        ) from exc
    return files


def files_manifest(staging: Path, **details: Any) -> str:
    """MANIFEST.json text listing every file of ``staging`` with its SHA-256 (for :func:`publish`).

    ``details`` are added as top-level keys (what made the files, from what).
    """
    files = sorted(p for p in staging.rglob("*") if p.is_file() and p.name != STAGING_MARKER)
    entries = [
        {"path": p.relative_to(staging).as_posix(), "sha256": _sha256(p), "bytes": p.stat().st_size}
        for p in files
    ]
    return json.dumps({"complete": True, **details, "files": entries}, indent=2)


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def _write_manifest(directory: Path, text: str) -> None:
    partial = directory / f".{MANIFEST}.partial"
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, directory / MANIFEST)


def _remove_empty_parents(directory: Path, root: Path) -> None:
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def _owned_files(folder: Path) -> tuple[dict[str, str], bool]:
    """``({relative path: sha256}, whether the folder has a kypho manifest)``."""
    path = folder / MANIFEST
    if path.is_symlink() or not path.is_file():
        return {}, False
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, False
    if not isinstance(document, dict) or document.get("generator") != GENERATOR:
        return {}, False
    owned: dict[str, str] = {}
    entries = [*_entries(document.get("files")), *_entries(document.get("owned"))]
    for name, digest in entries:
        target = folder / name
        if name in owned or not _inside(target, folder):
            continue
        if target.is_file() and not target.is_symlink() and _sha256(target) == digest:
            owned[name] = digest
    owned[MANIFEST] = _sha256(path)
    return owned, True


def _entries(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, list):
        return
    for entry in value:
        if isinstance(entry, dict):
            name, digest = entry.get("path"), entry.get("sha256")
            if isinstance(name, str) and isinstance(digest, str) and name:
                yield name, digest


def _inside(target: Path, folder: Path) -> bool:
    if ".." in target.parts:
        return False
    try:
        return folder.resolve() in target.resolve().parents
    except OSError:
        return False


def _staging_marker(entry: Path) -> dict[str, Any] | None:
    if not entry.name.startswith(STAGING_PREFIX) or entry.is_symlink() or not entry.is_dir():
        return None
    try:
        marker = json.loads((entry / STAGING_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("generator") != GENERATOR:
        return None
    return marker


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_live_staging(entry: Path) -> bool:
    marker = _staging_marker(entry)
    return marker is not None


def _remove_stale_staging(folder: Path) -> None:
    host = socket.gethostname()
    for entry in folder.iterdir():
        marker = _staging_marker(entry)
        if marker is None or marker.get("host") != host or _alive(marker.get("pid")):
            continue
        shutil.rmtree(entry, ignore_errors=True)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
