"""The W&B artifact/table on-disk format and the plain formats we import (no Qt)."""
