"""Record -> replay -> report: backtests on recorded books through the scan's own stages.

``recording`` (the format), ``stream`` (messages merged by time), ``books`` (local books in
integer micro-units), ``units`` (what a changed book re-evaluates), ``engine`` (the replay),
``report`` (figures, JSON, SVG), ``recorder`` (writing a recording from the venue),
``importers`` (public recorded data sets into the format).
"""
