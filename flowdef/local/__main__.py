"""``python -m flowdef.local COMMAND``: the operate commands on a local target (see flowdef.local.cli)."""

import sys

from flowdef.local.cli import main

sys.exit(main())
