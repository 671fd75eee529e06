"""Record -> replay -> report: backtests on recorded books through the scan's own stages.

``wire`` (the format's file names and micro-units, light to import), ``recording`` (the
catalogue and resolutions of a recording), ``stream`` (messages parsed in chunks, merged by
time), ``digest`` (messages as integer records, in a worker process for a large recording),
``books`` (local books in integer micro-units), ``units`` (what a changed book re-evaluates),
``engine`` (the replay), ``report`` (figures, JSON, SVG), ``recorder`` (writing a recording
from the venue), ``importers`` (public recorded data sets into the format).
"""
