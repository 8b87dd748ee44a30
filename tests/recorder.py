"""An instrument that records every call, for the tests of instruments."""

import eventbus


class Recorder(eventbus.Instrument):
    """Records each call as ``(method, bus or handler, event[, error])``."""

    def __init__(self):
        self.calls = []

    def emit_started(self, bus, event):
        self.calls.append(("emit_started", bus, event))

    def emit_finished(self, bus, event, error):
        self.calls.append(("emit_finished", bus, event, error))

    def handler_started(self, subscription, event):
        self.calls.append(("handler_started", subscription.handler, event))

    def handler_finished(self, subscription, event, seconds):
        assert isinstance(seconds, float)
        assert seconds >= 0
        self.calls.append(("handler_finished", subscription.handler, event))

    def handler_failed(self, subscription, event, error):
        self.calls.append(("handler_failed", subscription.handler, event, error))

    def hook_dropped(self, subscription, event):
        self.calls.append(("hook_dropped", subscription.handler, event))

    def names(self):
        return [call[0] for call in self.calls]
