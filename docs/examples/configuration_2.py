import attrs
import trio

import eventbus


@attrs.frozen
class AuditOptions:
    table: str
    retries: int = 3


class Audit(eventbus.Plugin):
    name = "audit"
    Options = AuditOptions


BAD_BUS = {
    "pipe_timeot": 2.0,  # a typo
    "strict": "false",  # a string is not a bool
    "checkpoint": "half",
    "hook_capacity": 0,
    "disable": "noisy",  # a string is not a list of names
    "plugins": {"audit": {"enabled": "yes"}},
}

BAD_OPTIONS = {"plugins": {"audit": {"retries": "x", "tabel": "docs"}}}


async def main() -> None:
    # 1. The configuration itself: every problem at once, before any plugin loads.
    try:
        async with eventbus.open_bus(BAD_BUS, discover=False):
            pass
    except eventbus.ConfigError as exc:
        print(exc)
        print(f"{len(exc.problems)} problems, source={exc.source}")

    # 2. One plugin's options: PluginError(phase="config"), caused by a ConfigError.
    try:
        async with eventbus.open_bus(BAD_OPTIONS, plugins=[Audit], discover=False):
            pass
    except eventbus.PluginError as exc:
        print(exc)
        print(f"phase={exc.phase} plugin={exc.plugin}")
        print(f"caused by {type(exc.__cause__).__name__}")

    # 3. A BusConfig built in code is checked the same way.
    try:
        eventbus.BusConfig(drain_timeout=-1)
    except eventbus.ConfigError as exc:
        print(exc)


if __name__ == "__main__":
    trio.run(main)

# Output:
# invalid configuration (6 problems):
#   - disable: expected a list of plugin names, got 'noisy'
#   - strict: expected bool (true or false), got 'false'
#   - checkpoint: expected one of 'full', 'cancel', got 'half'
#   - hook_capacity: expected an int >= 1, got 0
#   - pipe_timeot: unknown key; did you mean 'pipe_timeout'?
#   - plugins.audit.enabled: expected bool or None, got 'yes'
# 6 problems, source=None
# plugin 'audit' failed to config: invalid configuration (3 problems):
#   - plugins.audit.table: required key missing
#   - plugins.audit.retries: expected int, got 'x'
#   - plugins.audit.tabel: unknown key; did you mean 'table'?
# phase=config plugin=audit
# caused by ConfigError
# invalid configuration: drain_timeout: expected a finite number of seconds >= 0, got -1
