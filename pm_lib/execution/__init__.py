"""Execution: one ``Executor`` interface, paper and live behind it.

    base        Executor protocol, OrderSnapshot, run_off_loop (blocking calls off the loop)
    factory     make_executor: paper unless live is configured, armed and keyed
    paper       simulated against the run's real books (paper_rules, liquidity)
    live        the real venue through pm_lib.venue.trading (intent -> sign once -> post);
                live_fills turns the venue's trades into stored fills
    intents     request -> stored intent -> result
    multileg    baskets of FOK legs, leg risk and the unwind policy
    reconcile   DB against venue: unknown intents, missed fills, cancels, discrepancies
    heartbeat   keeps resting live orders alive (the venue cancels after 10 s of silence)

Positions, cash and P&L from the fills are ``pm_lib.portfolio``'s. Modules are imported where
used, so paper runs never import the SDK.
"""
