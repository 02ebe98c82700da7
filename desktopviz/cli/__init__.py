"""The ``desktopviz`` command line."""
