import sys

from flowdef.cli import main

sys.exit(main())
