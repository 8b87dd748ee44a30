"""Event types shared by the bridge tests and ``redis_peer.py`` (another process).

Their wire names are set explicitly (``__event_name__``): the test module and
the peer script import this file under different module names.
"""

from __future__ import annotations

import attrs

import eventbus


@attrs.frozen
class TestEvent(eventbus.Event):
    """The base of the test events: the bridge's forwarding hook subscribes to it."""

    __test__ = False  # not a pytest test class


@attrs.frozen
class Ping(TestEvent):
    __event_name__ = "tests.bridge.Ping"
    n: int


@attrs.frozen
class Pong(TestEvent):
    __event_name__ = "tests.bridge.Pong"
    n: int


@attrs.frozen
class Job(TestEvent):
    __event_name__ = "tests.bridge.Job"
    n: int
    payload: str = ""


@attrs.frozen
class Stop(TestEvent):
    __event_name__ = "tests.bridge.Stop"
