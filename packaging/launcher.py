"""PyInstaller's entry script for mirror-desktop: the same main() as the gui-script entry point."""

import sys

from mirror_desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
