"""The desktop application: all Qt code lives here (the core never imports it)."""
