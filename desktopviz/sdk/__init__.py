"""Writing artifacts and runs, with the names W&B users know (no Qt)."""
