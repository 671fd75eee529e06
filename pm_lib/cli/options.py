"""Options several commands share, and how they resolve (``--mode`` defaults to ``PM_MODE``)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal

import typer

if TYPE_CHECKING:
    from pm_lib.settings import Settings

__all__ = ["JsonOption", "ModeChoice", "ModeOption", "resolve_mode"]


class ModeChoice(StrEnum):
    """The books of record ``--mode`` accepts (anything else: a usage error, exit 2)."""

    paper = "paper"
    live = "live"


ModeOption = Annotated[
    ModeChoice | None,
    typer.Option(
        "--mode",
        help="Which book of record: paper or live. Default: PM_MODE (else paper).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (numbers as strings).")]


def resolve_mode(
    mode: ModeChoice | str | None, settings: Settings | None = None
) -> Literal["paper", "live"]:
    """``--mode`` when given, else the configured ``PM_MODE`` (of ``settings`` when the caller
    has them, else validated with freshly loaded settings)."""
    if mode is None:
        if settings is None:
            from pm_lib.settings import Settings

            settings = Settings()
        return settings.mode
    value = mode.value if isinstance(mode, ModeChoice) else mode
    return "live" if value == "live" else "paper"
