"""``kypho serve``: the study web application (electronic case report forms) on the store."""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kypho.cli._options import schema_options, split_schema_files
from kypho.errors import StoreError

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from kypho.store import Store

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "build_demo", "serve", "worker_app"]

#: The demo store's users and roles (``make serve``); synthetic data only.
DEMO_USERS: dict[str, str] = {
    "admin": "admin",
    "dora": "data_entry",
    "mona": "monitor",
    "ana": "analyst",
    "rita": "read_only",
}
#: The demo users' password: a demo on the loopback address, with invented patients.
DEMO_PASSWORD = "kypho-demo"


def build_demo(url: str) -> None:
    """Create a demo store at ``url``: the bundled synthetic cohort and the demo users."""
    from importlib import resources

    from kypho.io import read_table
    from kypho.store import Store
    from kypho.store.auth import set_password

    cohort = Path(str(resources.files("kypho.data").joinpath("cohort.csv")))
    with Store.init(url, admin="admin") as store:
        raw = read_table(cohort, schema=store.schema)
        store.import_frame(raw, reason="demo: the bundled synthetic cohort", source=cohort.name)
        for name, role in DEMO_USERS.items():
            if name != "admin":
                store.add_user(name, role, reason="demo user")
            set_password(store, name, DEMO_PASSWORD, reason="demo password")


@click.command("serve")
@click.option("--url", envvar="KYPHO_DB_URL", default=None, help="The store (as `kypho db`).")
@click.option(
    "--user",
    envvar="KYPHO_USER",
    default=None,
    help="A user of the store the server acts as for its background checks (verify).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on.")
@schema_options
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File holding the key that signs session cookies (default $KYPHO_SECRET, else "
    "random: sessions end when the server restarts).",
)
@click.option(
    "--https", "secure", is_flag=True, help="Behind a TLS reverse proxy: cookies only over HTTPS."
)
@click.option("--idle-minutes", type=float, default=30.0, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes (PostgreSQL stores only; they share sessions and the login "
    "throttle through the store).",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Serve a demo store (the bundled synthetic cohort, demo users), created if absent.",
)
def serve(
    url: str | None,
    user: str | None,
    host: str,
    port: int,
    schema_files: tuple[Path, ...],
    extensions: tuple[Path, ...],
    secret_file: Path | None,
    secure: bool,
    idle_minutes: float,
    workers: int,
    demo: bool,
) -> None:
    """Serve the study's forms, dashboard, queries and audit log in the browser."""
    import uvicorn

    from kypho.store import resolve_url

    if demo:
        url = url or "kypho-demo.db"
        user = "admin"
        resolved = resolve_url(url)
        if resolved.startswith("sqlite:///") and not Path(resolved[10:]).exists():
            click.echo(f"building the demo store {resolved[10:]} (synthetic cohort)...", err=True)
            build_demo(resolved)
    secret = os.environ.get("KYPHO_SECRET")
    if secret_file is not None:
        try:
            secret = secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise StoreError(f"cannot read the secret file {str(secret_file)!r}: {exc}") from exc
    # --schema: the whole schema (with its forms:) and/or extensions; --extension: old spelling.
    schema_path, extensions = split_schema_files(schema_files, extensions)
    config = {
        "url": url,
        "user": user,
        "schema_path": None if schema_path is None else str(schema_path),
        "extensions": [str(e) for e in extensions],
        "idle_minutes": idle_minutes,
        "secure": secure,
        # several processes must sign cookies with one key
        "secret": secret or (secrets.token_hex(32) if workers > 1 else None),
    }
    store = _open_store(config)
    if workers > 1 and store.engine.dialect.name == "sqlite":
        store.close()
        raise StoreError(
            "--workers needs a PostgreSQL store: a SQLite file takes one writer at a time, "
            "so serve it with one worker"
        )
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    click.echo(f"kypho serves {store.schema.study} at http://{shown}:{port}/", err=True)
    if demo:
        click.echo(
            f"demo login: admin / {DEMO_PASSWORD} (also dora = data entry, mona = monitor, "
            f"ana = analyst, rita = read only; same password). Synthetic data only.",
            err=True,
        )
    if workers == 1:
        uvicorn.run(_app(store, config), host=host, port=port, log_level="warning")
        return
    store.close()
    # the workers' report runs in one folder, so a run started on one is seen on all
    folder = tempfile.mkdtemp(prefix="kypho-web-")
    atexit.register(shutil.rmtree, folder, True)
    config["report_folder"] = folder
    os.environ[_CONFIG_ENV] = json.dumps(config)
    uvicorn.run(
        "kypho.cli.serve:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


_CONFIG_ENV = "KYPHO_SERVE_CONFIG"


def _open_store(config: dict[str, Any]) -> Store:
    from kypho.schema import load_schema
    from kypho.store import Store

    schema = None
    extensions = tuple(Path(e) for e in config["extensions"])
    if config["schema_path"] is not None or extensions:
        path = None if config["schema_path"] is None else Path(config["schema_path"])
        schema = load_schema(path, extensions=extensions)
    return Store(config["url"], user=config["user"], schema=schema)


def _app(store: Store, config: dict[str, Any]) -> Starlette:
    from kypho.web import Settings, create_app

    settings = Settings(
        idle_minutes=config["idle_minutes"],
        secure_cookies=config["secure"],
        schema_path=None if config["schema_path"] is None else Path(config["schema_path"]),
        extensions=tuple(Path(e) for e in config["extensions"]),
    )
    if config["secret"]:
        settings = dataclasses.replace(settings, secret=config["secret"])
    if config.get("report_folder"):
        settings = dataclasses.replace(settings, report_folder=Path(config["report_folder"]))
    return create_app(store, settings, verify_in_background=True)


def worker_app() -> Starlette:
    """The application of one worker process of ``kypho serve --workers N`` (uvicorn's factory).

    Reads the options the parent process resolved from ``$KYPHO_SERVE_CONFIG``.
    """
    config = json.loads(os.environ[_CONFIG_ENV])
    return _app(_open_store(config), config)
