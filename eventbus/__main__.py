"""``python -m eventbus``: the same command line as the ``eventbus`` script."""

from _eventbus_cli import main

raise SystemExit(main())
