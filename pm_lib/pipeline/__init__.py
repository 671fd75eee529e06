"""The stages of a run as plain functions: what each Prefect task calls, testable without Prefect.

context        RunContext: settings, engine, run id, mode, arming, clock
market_data    load_catalogue (DB cache, else Gamma keyset) and fetch_books (POST /books)
decisions      portfolio state, signals and risk decisions, all persisted
trading        approved opportunities -> orders through the one executor of the run
records        run rows, summary figures
"""
