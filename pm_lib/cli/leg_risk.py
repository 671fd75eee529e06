"""Leg risks for an operator: list the lopsided baskets, and close one taken over by hand.

A ``held`` leg risk (``PM_UNWIND_POLICY=hold``, or a sell-back that could not close the leg)
keeps reconcile from saying clean and keeps new buying off its market and neg-risk group until
an operator closes it with what was done (sold by hand, completed the basket, accepted).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from pm_lib.cli.account import _engine, console
from pm_lib.cli.options import JsonOption
from pm_lib.cli.render import compact_table

__all__ = ["register"]


def leg_risks(
    open_only: Annotated[
        bool, typer.Option("--open-only", help="Only those reconcile has not decided yet.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Lopsided baskets still open or held (leg, policy, status, what was done)."""
    from pm_lib.store import open_leg_risks, session_scope
    from pm_lib.store.leg_risk import leg_risks_to_review

    with session_scope(_engine()) as session:
        risks = open_leg_risks(session) if open_only else leg_risks_to_review(session)
    rows = [
        {
            "id": str(r.id),
            "run_id": r.run_id,
            "intent_key": r.intent_key,
            "policy": r.policy,
            "status": r.status,
            "detail": r.detail,
        }
        for r in risks
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        console.print("no leg risks")
        return
    table = compact_table("leg risks", *rows[0])
    for row in rows:
        table.add_row(*row.values())
    console.print(table)


def close_leg_risk(
    leg_risk_id: Annotated[int, typer.Argument(help="The id `pm-agent leg-risks` shows.")],
    reason: Annotated[str, typer.Option(help="What was done (stored with it).")],
) -> None:
    """Close a held or open leg risk an operator took over: reconcile stops reporting it and
    its market and neg-risk group may be bought again."""
    from pm_lib.store import resolve_leg_risk, session_scope
    from pm_lib.store.leg_risk import leg_risks_to_review

    with session_scope(_engine()) as session:
        known = {r.id: r for r in leg_risks_to_review(session)}
        if leg_risk_id not in known:
            console.print(
                f"[red]no open or held leg risk {leg_risk_id}[/] (see pm-agent leg-risks)"
            )
            raise typer.Exit(1)
        resolve_leg_risk(
            session,
            leg_risk_id,
            status="closed",
            detail=f"operator: {reason} (was {known[leg_risk_id].status}: "
            f"{known[leg_risk_id].detail})",
            resolved_at=datetime.now(UTC),
        )
    console.print(f"leg risk {leg_risk_id} closed: {reason}")


def register(app: typer.Typer) -> None:
    """Add the leg-risk commands to the ``pm-agent`` app."""
    for command in (leg_risks, close_leg_risk):
        app.command()(command)
