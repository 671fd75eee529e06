"""``pm-agent db ...``: pm-agent's own database (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["db_app"]

db_app = typer.Typer(
    name="db",
    help="pm-agent's own database: migrations and status.",
    no_args_is_help=True,
)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL. Default: PM_DATABASE_URL, else the SQLite file in PM_DATA_DIR.",
        show_default=False,
    ),
]


def _resolve(database_url: str | None) -> str:
    if database_url:
        return database_url
    from pm_lib.settings import get_settings

    return get_settings().resolved_database_url


@db_app.command("upgrade")
def upgrade_command(database_url: DatabaseUrl = None) -> None:
    """Apply pending migrations (idempotent; safe when several processes start together)."""
    from sqlalchemy.exc import OperationalError

    from pm_lib.store.engine import head_revision, make_engine, masked_url, upgrade

    url = _resolve(database_url)
    engine = make_engine(url)
    try:
        revision = upgrade(engine)
    except OperationalError as error:
        typer.echo(f"cannot migrate {masked_url(url)}: {error.orig}", err=True)
        raise typer.Exit(code=2) from error
    finally:
        engine.dispose()
    typer.echo(f"database: {masked_url(url)}")
    typer.echo(f"revision: {revision} (head {head_revision()})")


@db_app.command("current")
def current_command(database_url: DatabaseUrl = None) -> None:
    """Print the database's migration revision and the newest one this version ships."""
    from sqlalchemy.exc import OperationalError

    from pm_lib.store.engine import current_revision, head_revision, make_engine, masked_url

    url = _resolve(database_url)
    engine = make_engine(url)
    try:
        revision = current_revision(engine)
    except OperationalError as error:
        typer.echo(f"cannot read {masked_url(url)}: {error.orig}", err=True)
        raise typer.Exit(code=2) from error
    finally:
        engine.dispose()
    typer.echo(f"database: {masked_url(url)}")
    typer.echo(f"revision: {revision or 'none (run pm-agent db upgrade)'} (head {head_revision()})")
    if revision != head_revision():
        raise typer.Exit(code=1)
