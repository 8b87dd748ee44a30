"""The fixture plugins of the command-line tests and of ``docs/cli.md``: a small shop.

Each entry of :data:`DISTRIBUTIONS` is a distribution, written by
:func:`install` as a real ``*.dist-info`` (``METADATA`` and
``entry_points.txt``) plus its modules into a directory that the command
runs with on ``PYTHONPATH``: exactly what ``pip install`` leaves in
``site-packages``, and what ``importlib.metadata`` reads.

- ``shop-events``: the event types (wire names ``shop.*``), no plugin;
- ``inventory``: a pipe (order -10, timeout 0.5 s) and a plain-function listener;
- ``fraud``: a pipe of order -20 that must run ``after`` inventory's;
- ``pricing``: requires inventory; two pipes, one a plain function in a thread;
- ``mailer``: a listener, and a hook on the ``shop.ShopEvent`` base class;
- ``audit``: needs a ``table`` option; a hook with two workers; its lifespan
  takes ``stop_delay`` seconds to stop;
- ``metrics``: disabled by the configurations below;
- ``legacy``: cannot be imported (a missing dependency).

Every lifespan logs when it opens and closes, so ``eventbus run`` shows them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from distinfo import write_dist

if TYPE_CHECKING:
    from pathlib import Path

EVENTS = """
import attrs

import eventbus


#: The pipes append their names here as they run (see test_cli_graph).
CALLS = []


@attrs.frozen
class ShopEvent(eventbus.Event):
    __event_name__ = "shop.ShopEvent"
    order_id: int


@attrs.frozen
class OrderPlaced(ShopEvent):
    __event_name__ = "shop.OrderPlaced"
    item: str = "teapot"
    quantity: int = 1
    total: float | None = None


@attrs.frozen
class OrderPaid(ShopEvent):
    __event_name__ = "shop.OrderPaid"
    amount: float = 0.0
"""

INVENTORY = """
import contextlib
import logging

import eventbus
from shop_events import CALLS, OrderPaid, OrderPlaced

log = logging.getLogger("eventbus.plugin.inventory")


class Inventory(eventbus.Plugin):
    @contextlib.asynccontextmanager
    async def lifespan(self, bus):
        log.info("stock loaded: 2 items")
        yield
        log.info("stock saved")

    @eventbus.pipe(OrderPlaced, order=-10, timeout=0.5)
    async def check_stock(self, event):
        CALLS.append("Inventory.check_stock")
        return event

    @eventbus.listener(OrderPaid)
    def reserve(self, event):
        pass
"""

FRAUD = """
import eventbus
from shop_events import CALLS, OrderPlaced


class Fraud(eventbus.Plugin):
    @eventbus.pipe(OrderPlaced, order=-20, after="inventory")
    async def screen(self, event):
        CALLS.append("Fraud.screen")
        return event
"""

PRICING = """
import contextlib
import logging

import attrs

import eventbus
from shop_events import CALLS, OrderPlaced

log = logging.getLogger("eventbus.plugin.pricing")


class Pricing(eventbus.Plugin):
    requires = ("inventory",)

    @contextlib.asynccontextmanager
    async def lifespan(self, bus):
        log.info("price list loaded")
        yield
        log.info("price list closed")

    @eventbus.pipe(OrderPlaced)
    async def apply_price(self, event):
        CALLS.append("Pricing.apply_price")
        return attrs.evolve(event, total=25.0 * event.quantity)

    @eventbus.pipe(OrderPlaced, order=5, thread=True)
    def apply_discount(self, event):
        CALLS.append("Pricing.apply_discount")
        return event
"""

MAILER = """
import eventbus
from shop_events import OrderPlaced, ShopEvent


class Mailer(eventbus.Plugin):
    @eventbus.listener(OrderPlaced, timeout=5.0)
    async def send_confirmation(self, event):
        pass

    @eventbus.hook(ShopEvent, capacity=100)
    async def archive(self, event):
        pass
"""

AUDIT = """
import contextlib
import logging

import attrs
import trio

import eventbus
from shop_events import OrderPaid

log = logging.getLogger("eventbus.plugin.audit")


@attrs.frozen
class AuditOptions:
    table: str
    stop_delay: float = 0.0


class Audit(eventbus.Plugin):
    Options = AuditOptions

    @contextlib.asynccontextmanager
    async def lifespan(self, bus):
        log.info("audit table %r opened", self.options.table)
        try:
            yield
        finally:
            if self.options.stop_delay:
                log.info("flushing the audit table (%gs)", self.options.stop_delay)
                await trio.sleep(self.options.stop_delay)
            log.info("audit table %r closed", self.options.table)

    @eventbus.hook(OrderPaid, timeout=2.0, concurrency=2)
    async def record(self, event):
        pass
"""

METRICS = """
import eventbus
from shop_events import ShopEvent


class Metrics(eventbus.Plugin):
    @eventbus.listener(ShopEvent)
    def count(self, event):
        pass
"""

LEGACY = """
import zeep_soap_client  # not installed

import eventbus


class Legacy(eventbus.Plugin):
    pass
"""

#: name -> (version, entry points, modules)
DISTRIBUTIONS: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "shop-events": ("1.0.0", {}, {"shop_events": EVENTS}),
    "shop-inventory": (
        "1.4.0",
        {"inventory": "shop_inventory:Inventory"},
        {"shop_inventory": INVENTORY},
    ),
    "shop-fraud": ("0.9.0", {"fraud": "shop_fraud:Fraud"}, {"shop_fraud": FRAUD}),
    "shop-pricing": ("2.1.0", {"pricing": "shop_pricing:Pricing"}, {"shop_pricing": PRICING}),
    "shop-mailer": ("0.3.0", {"mailer": "shop_mailer:Mailer"}, {"shop_mailer": MAILER}),
    "shop-audit": ("1.0.0", {"audit": "shop_audit:Audit"}, {"shop_audit": AUDIT}),
    "shop-metrics": ("1.0.0", {"metrics": "shop_metrics:Metrics"}, {"shop_metrics": METRICS}),
    "shop-legacy": ("0.1.0", {"legacy": "shop_legacy:Legacy"}, {"shop_legacy": LEGACY}),
}

#: The module names above, for tests that import them in-process.
MODULES = tuple(name for _, _, modules in DISTRIBUTIONS.values() for name in modules)

#: ``eventbus.toml`` of the docs: legacy is enabled, so ``check`` finds a problem.
CONFIG = """\
disable = ["metrics"]
pipe_timeout = 2.0

[plugins.audit]
table = "orders"
"""

#: The same with legacy disabled: ``check`` is clean.
CLEAN_CONFIG = """\
disable = ["metrics", "legacy"]
pipe_timeout = 2.0

[plugins.audit]
table = "orders"
"""


def install(site: Path, *names: str) -> Path:
    """Install the named distributions (default: all of them) into ``site``."""
    for name in names or DISTRIBUTIONS:
        version, entry_points, modules = DISTRIBUTIONS[name]
        write_dist(site, name, version, entry_points=entry_points, modules=modules)
    return site
