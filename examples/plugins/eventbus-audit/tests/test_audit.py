"""The audit plugin's own tests, written with eventbus.testing as any plugin author would.

Run them from this directory with ``pytest`` (the ``testing`` extra of
trio-eventbus brings pytest-trio and hypothesis).
"""

from __future__ import annotations

import pytest
import trio
from eventbus_audit import AuditOptions, AuditPlugin, DocumentCreated, DocumentCreating

import eventbus
from eventbus.testing import check_plugin, plugin_harness


@pytest.mark.trio
async def test_stamp_sets_created_at(autojump_clock: object) -> None:
    async with plugin_harness(AuditPlugin, {"table": "documents"}) as h:
        await trio.sleep(5)
        stamped = await h.emit(DocumentCreating("report.pdf"))
        assert stamped == DocumentCreating("report.pdf", created_at=5.0)
        assert h.emitted == []


@pytest.mark.trio
async def test_index_now_audit_in_the_background(autojump_clock: object) -> None:
    async with plugin_harness(AuditPlugin, AuditOptions(table="documents")) as h:
        log = h.plugin.log
        assert log is not None
        await h.emit(DocumentCreated("report.pdf", created_at=1.0))
        # The listener ran before emit returned; the hook is still queued.
        assert log.rows == [("indexed", "report.pdf")]
    # The bus drained the hook's queue before the lifespan closed the log.
    assert log.rows == [("indexed", "report.pdf"), ("audited", "report.pdf")]
    assert log.closed


@pytest.mark.trio
async def test_bad_options_are_a_config_error() -> None:
    with pytest.raises(eventbus.PluginError) as info:
        async with plugin_harness(AuditPlugin, {"retries": -1}):
            pass  # pragma: no cover
    assert info.value.phase == "config"
    assert "'retries' must be >= 0" in str(info.value)


def test_the_plugin_keeps_the_contract() -> None:
    check_plugin(AuditPlugin, {"table": "documents"}, max_examples=25)
