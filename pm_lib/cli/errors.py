"""How the ``pm-agent`` command line fails: one line that names what to fix, no traceback.

    bad settings (PM_* variable), ConfigurationError, a database URL that will not open -> exit 2
    the venue down or refusing, any other pm-agent error                             -> exit 1
    anything unexpected: one line naming the exception                               -> exit 1

``--debug`` (a global option, before the command) lets the exception and its traceback through.
Usage errors (an unknown option, ``--mode foo``) are click's: exit 2 with its usage message.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException  # typer's own click: usage errors, exit 2

__all__ = ["GuardedGroup", "describe"]

VENUE_HINT = (
    "check PM_CLOB_URL / PM_GAMMA_URL (for a local rehearsal start one with "
    "`pm-agent venue serve` and export the URLs it prints)"
)


def _settings_error(error: Any) -> str:
    """A pydantic ``ValidationError`` of ``Settings`` as ``PM_FIELD='value': why`` lines."""
    parts = []
    for item in error.errors():
        loc = [str(p) for p in item.get("loc", ())]
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        if loc:
            var = f"PM_{loc[0].upper()}"
            value = item.get("input")
            shown = f"={value!r}" if isinstance(value, str | int | float) else ""
            parts.append(f"{var}{shown}: {message}")
        else:
            parts.append(message)
    return "; ".join(parts) + " (fix the variable in the environment or .env, or unset it)"


def _venue_hint(error: Any) -> str:
    """Where to look: the URLs when the venue did not answer, the credentials when it refused
    them, nothing when it answered with a reason of its own."""
    status = getattr(error, "status_code", None)
    if status is None or status >= 500:
        return f" ({VENUE_HINT})"
    if status in (401, 403):
        return " (check the POLYMARKET_* credentials: `pm-agent doctor`)"
    return ""


def describe(error: BaseException) -> tuple[str, int]:
    """The one line to print for ``error`` and the exit code."""
    from pydantic import ValidationError

    from pm_lib.errors import ConfigurationError, PmAgentError, VenueError

    if isinstance(error, ValidationError) and error.title in ("Settings", "BaseSettings"):
        return f"configuration error: {_settings_error(error)}", 2
    if isinstance(error, ValidationError):
        return (
            f"invalid value: {error.error_count()} error(s), first: {error.errors()[0]['msg']}",
            2,
        )
    if isinstance(error, ConfigurationError):
        return f"refused: {error}", 2
    if isinstance(error, VenueError):
        return f"venue error: {error}{_venue_hint(error)}", 1
    if isinstance(error, PmAgentError):
        return f"failed: {error}", 1
    if type(error).__module__.startswith("sqlalchemy"):
        detail = str(getattr(error, "orig", None) or error).splitlines()[0]
        return f"database error: {detail} (check PM_DATABASE_URL, or PM_DATA_DIR)", 2
    if isinstance(error, OSError):
        return f"error: {error}", 1
    first = str(error).splitlines()[0] if str(error) else ""
    return (
        f"error: {type(error).__name__}: {first} (run `pm-agent --debug ...` for the traceback)",
        1,
    )


class GuardedGroup(TyperGroup):
    """The root command group: turns errors into one line and an exit code (module doc)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (TyperException, typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            raise
        except Exception as error:
            if ctx.params.get("debug"):
                raise
            line, code = describe(error)
            typer.echo(line, err=True)
            sys.stderr.flush()
            raise typer.Exit(code) from None
