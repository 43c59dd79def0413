"""``python -m pocketstack.object.ring``: same as ``pocketstack ring``."""

import sys

from pocketstack.object.ring.cli import main

sys.exit(main())
