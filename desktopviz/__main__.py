"""``python -m desktopviz`` runs the command line."""

from desktopviz.cli.main import main

raise SystemExit(main())
