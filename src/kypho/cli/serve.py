"""``kypho serve``: the study web application (electronic case report forms) on the store."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import click

from kypho.cli._options import schema_options, split_schema_files
from kypho.errors import StoreError

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "build_demo", "serve"]

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
    demo: bool,
) -> None:
    """Serve the study's forms, dashboard, queries and audit log in the browser."""
    import uvicorn

    from kypho.schema import load_schema
    from kypho.store import Store, resolve_url
    from kypho.web import Settings, create_app

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
    schema = None
    if schema_path is not None or extensions:
        schema = load_schema(schema_path, extensions=extensions)
    store = Store(url, user=user, schema=schema)
    settings = Settings(
        idle_minutes=idle_minutes,
        secure_cookies=secure,
        schema_path=schema_path,
        extensions=extensions,
    )
    if secret:
        settings = dataclasses.replace(settings, secret=secret)
    app = create_app(store, settings, verify_in_background=True)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    click.echo(f"kypho serves {store.schema.study} at http://{shown}:{port}/", err=True)
    if demo:
        click.echo(
            f"demo login: admin / {DEMO_PASSWORD} (also dora = data entry, mona = monitor, "
            f"ana = analyst, rita = read only; same password). Synthetic data only.",
            err=True,
        )
    uvicorn.run(app, host=host, port=port, log_level="warning")
