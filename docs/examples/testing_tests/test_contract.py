import attrs
import pytest
from greeter import Greet, GreeterPlugin
from hypothesis import strategies as st

import eventbus
from eventbus.testing import check_plugin


def test_greeter_keeps_the_contract():
    check_plugin(GreeterPlugin)  # 50 events per handler
    check_plugin(GreeterPlugin, {"greeting": "Hi", "max_length": 3}, max_examples=10)
    check_plugin(GreeterPlugin, events={Greet: st.builds(Greet, st.just("Ada"))}, max_examples=5)


class CarelessGreeter(GreeterPlugin):
    @eventbus.pipe(Greet)
    def tidy(self, event: Greet) -> Greet:
        if event.name.strip():
            return attrs.evolve(event, name=event.name.strip())
        # Forgot to raise eventbus.Rejected: returns None.


REPORT = """\
check_plugin(CarelessGreeter): the clause 'pipe result' is broken: every pipe returns an event of an allowed type or raises eventbus.Rejected
  plugin:  'greeter' (test_contract:CarelessGreeter)
  handler: pipe 'CarelessGreeter.tidy' on Greet
  problem: it returned None, not a Greet (the type of the event it was given, or a subclass); return the event, e.g. attrs.evolve(event, ...), or raise eventbus.Rejected(reason)
  event:   Greet(name='') (shrunk by hypothesis)"""


def test_check_plugin_names_what_is_broken():
    with pytest.raises(AssertionError) as info:
        check_plugin(CarelessGreeter, max_examples=10)
    assert str(info.value) == REPORT
