"""The events of the `shop` service, and the billing worker's handlers.

Both sides import this module: the wire names (``shop.OrderPlaced``...) are
what travels, so the classes may live in different modules as long as the
names match.
"""

import contextlib
from collections.abc import AsyncIterator

import attrs

import eventbus


@attrs.frozen
class ShopEvent(eventbus.Event):
    """The base of the shop's events: the bridge's hook subscribes to it alone."""


@attrs.frozen
class OrderPlaced(ShopEvent):
    __event_name__ = "shop.OrderPlaced"
    id: int
    total: float


@attrs.frozen
class InvoiceSent(ShopEvent):
    __event_name__ = "shop.InvoiceSent"
    order: int


class Billing(eventbus.Plugin):
    """Charges each order once, then tells the shop (forwarded by the bridge)."""

    @contextlib.asynccontextmanager
    async def lifespan(self, bus: eventbus.Bus) -> AsyncIterator[None]:
        self.bus = bus
        yield

    @eventbus.listener(OrderPlaced)
    async def charge(self, event: OrderPlaced) -> None:
        await self.bus.emit(InvoiceSent(event.id))
