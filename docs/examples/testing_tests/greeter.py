"""The guide's plugin, ``docs/examples/testing_1.py``, under the name its tests import.

In your project this is your plugin's package; in the guide, that plugin is
one file that also runs as a script, and this module only re-exports it.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing_1 import Greet, Greeted, GreeterOptions, GreeterPlugin

__all__ = ["Greet", "Greeted", "GreeterOptions", "GreeterPlugin"]
