"""Test-suite wide configuration.

Hypothesis profiles, chosen by the ``HYPOTHESIS_PROFILE`` environment variable:

- ``ci`` (the default when ``CI`` is set): more examples, reproducible runs
  (derandomized, no example database), no deadline (CI machines are slow and noisy);
- ``dev`` (the default otherwise): fewer examples for a quick edit-test loop.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True, database=None)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
