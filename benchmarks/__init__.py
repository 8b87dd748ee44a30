"""Side-by-side benchmarks of trio-eventbus, hand-written trio floors and peers.

Run with ``python -m benchmarks`` (``--help`` lists the options). One process
measures every variant of every scenario with interleaved repeats (round-robin
over all variants, ``--repeats`` times) and reports medians; the results are
printed and written to ``docs/benchmarks.md`` with a chart in
``docs/benchmarks.png``.

Layout:

- ``_harness``: calibration, interleaved repeats, medians.
- ``_handlers``: the events, handlers and instrument every variant shares.
- ``_eventbus``, ``_floors``, ``_peers``: the runners, one per variant.
- ``_scenarios``: the catalogue: which variant belongs to which table, what it
  is compared against, and why a peer is "n/a".
- ``_memory``: peak traced memory through a slow hook, bytes per subscription.
- ``_report``, ``_chart``: the tables, the targets, the docs page and the chart.

Nothing here is collected by pytest (no ``test_*`` module or function).
"""
