"""python -m mirror_desktop.cli runs the `mirror` command."""

import sys

from mirror_desktop.cli.main import main

sys.exit(main())
