"""Bridges carry events between processes: ``eventbus.bridges.redis`` (Redis Streams).

Each bridge is an ordinary plugin built on the public ``eventbus`` API only, in
its own sub-package with its own extra (``pip install trio-eventbus[redis]``).
Importing ``eventbus`` never imports a bridge.
"""
