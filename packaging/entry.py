"""The frozen app's entry point: the whole command line, which opens the window by default."""

import os
import sys

from desktopviz.cli.main import main

if __name__ == "__main__":
    # Windows' windowed executable (desktopviz-app.exe) has no console: stdout and stderr are None
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    sys.exit(main())
