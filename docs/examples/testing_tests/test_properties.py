import attrs
from greeter import Greet, Greeted, GreeterPlugin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eventbus
from eventbus.testing import event_streams, events, plugin_harness

# autojump_clock: the hook's sleep costs no real time. One clock for all the
# examples is fine, hence the health check off.
on_the_mock_clock = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@on_the_mock_clock
@given(event=events(Greet))
async def test_any_greeting_is_tidied_or_rejected(autojump_clock, event):
    async with plugin_harness(GreeterPlugin) as h:
        try:
            tidy = await h.emit(event)
        except eventbus.Rejected:
            assert not event.name.strip()
            return
        assert tidy.name == tidy.name.strip()
        assert 1 <= len(tidy.name) <= 20
        assert h.emitted == [Greeted(tidy.name, f"Hello, {tidy.name}!")]


names = st.sampled_from(["Ada", "Grace", "Barbara"])


@on_the_mock_clock
@given(stream=event_streams(events(Greet, name=names), max_size=5))
async def test_every_greeting_is_answered_in_order(autojump_clock, stream):
    async with plugin_harness(GreeterPlugin) as h:
        for event in stream:
            await h.emit(event)
    assert [e.name for e in h.emitted] == [e.name for e in stream]
    assert h.plugin.guest_book == [e.name for e in stream]  # hooks drained at exit


@attrs.frozen
class Batch(eventbus.Event):
    greets: list[Greet]
    urgent: bool = False


@settings(max_examples=20)
@given(events(Batch, urgent=True))
def test_events_builds_nested_classes(batch):
    assert batch.urgent
    assert all(isinstance(g, Greet) for g in batch.greets)
