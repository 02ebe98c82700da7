"""A terminal progress bar (tqdm) fed by the core's progress callback."""

from __future__ import annotations

import sys
from typing import Any

from desktopviz.progress import Progress


class TerminalProgress:
    """Callable progress sink: a bar per stage on stderr when it is a terminal, silent otherwise."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar: Any = None
        self._stage = ""

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        key = f"{p.stage}:{p.message}" if p.stage == "table" else p.stage
        if self._bar is None or key != self._stage:
            self.close()
            self._stage = key
            label = f"{p.stage} {p.message}".strip() if p.stage == "table" else p.stage
            self._bar = tqdm(total=p.total, desc=label[:40], unit="rows" if p.stage == "table" else "files",
                             file=sys.stderr, leave=False, dynamic_ncols=True)
        self._bar.total = p.total
        self._bar.n = p.done
        if p.bytes_total:
            self._bar.set_postfix_str(f"{p.bytes_done / 1e6:.1f}/{p.bytes_total / 1e6:.1f} MB", refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        """Remove the current bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
