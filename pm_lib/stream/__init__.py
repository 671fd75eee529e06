"""Streaming: books and fills from the venue's WebSocket channels, and event-driven trading.

``local_book``  one token's book kept from the stream, verified by the venue's hash;
``books``       every streamed book, which changed, which can be trusted;
``shard``       one market-channel connection (at most ``PM_WS_MAX_ASSETS`` assets);
``market``      the shards of a token list plus the ``POST /books`` resync;
``view``        the changed markets as a books source for the one scan (``run_scan``);
``trader``      the event-driven loop: changed books -> the scan's stages -> orders;
``fills``       the user channel: order and trade events into the stored intents and fills.
"""
