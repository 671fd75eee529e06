"""Options several commands share, and how they resolve (``--mode`` defaults to ``PM_MODE``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

import typer

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


def resolve_mode(mode: ModeChoice | str | None) -> Literal["paper", "live"]:
    """``--mode`` when given, else the configured ``PM_MODE`` (validated with the settings)."""
    if mode is None:
        from pm_lib.settings import Settings

        return Settings().mode
    value = mode.value if isinstance(mode, ModeChoice) else mode
    return "live" if value == "live" else "paper"
