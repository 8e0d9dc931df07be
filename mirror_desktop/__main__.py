"""``python -m mirror_desktop`` opens the window (the same entry point as ``mirror-desktop``)."""

import sys

from mirror_desktop.app import main

sys.exit(main())
