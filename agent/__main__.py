"""``python -m logferry.agent``: the same as the ``logferry`` command."""

import sys

from logferry.agent.cli import main

sys.exit(main())
