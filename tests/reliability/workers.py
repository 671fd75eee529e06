"""Process entry points for the concurrency tests (spawned, so each is a real separate worker).

``scan_worker`` is one scan_and_trade run on its own engine in its own process. It waits at a
shared barrier after risk and before execute, so two workers have both decided on the same
books and portfolio before either places anything.
"""

from __future__ import annotations

import os
import traceback
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

__all__ = ["scan_worker"]


def scan_worker(
    settings_fields: dict[str, Any],
    live: bool,
    private_key: str,
    barrier: Barrier,
    answers: Queue[dict[str, Any]],
    markets: list[str] | None = None,
) -> None:
    """Run one scan (live when ``live``) and put what it decided and placed on ``answers``.

    With ``markets``, the run keeps only the opportunities trading exactly those markets (as a
    run whose strategies found only that basket would).
    """
    try:
        if live:
            os.environ["POLYMARKET_PRIVATE_KEY"] = private_key
        from pm_lib.settings import Settings
        from pm_lib.store import make_engine
        from tests.reliability.scan import open_context, run_scan

        settings = Settings(_env_file=None, **settings_fields)  # type: ignore[call-arg]
        engine = make_engine(settings.resolved_database_url)
        ctx = open_context(settings, engine, live=live)
        keep = None
        if markets is not None:
            wanted = set(markets)

            def keep(o: Any) -> bool:
                return {leg.condition_id for leg in o.legs} == wanted

        outcome = run_scan(ctx, before_execute=lambda: barrier.wait(timeout=120), keep=keep)
        engine.dispose()
        answers.put(
            {
                "run_id": ctx.run_id,
                "approved": [d.opportunity_id for d in outcome.report.decisions if d.approved],
                "orders": [r.intent_key for r in outcome.execution.results],
                "skipped": dict(outcome.execution.skipped),
            }
        )
    except BaseException:
        barrier.abort()
        answers.put({"error": traceback.format_exc()})
