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

        by_bytes = p.total is None and bool(p.bytes_total)
        key = f"{p.stage}:{p.message}:{by_bytes}"
        if self._bar is None or key != self._stage:
            self.close()
            self._stage = key
            label = f"{p.stage} {p.message}".strip() if p.stage == "table" else p.stage
            unit = "B" if by_bytes else ("rows" if p.stage == "table" else "files")
            self._bar = tqdm(
                total=p.bytes_total if by_bytes else p.total,
                desc=label[:40],
                unit=unit,
                unit_scale=by_bytes,
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )
        if by_bytes:
            self._bar.n = p.bytes_done
            self._bar.set_postfix_str(f"{p.done:,} rows", refresh=False)
        else:
            self._bar.total = p.total
            self._bar.n = p.done
            if p.bytes_total:
                elapsed = self._bar.format_dict.get("elapsed") or 0
                rate = f", {p.bytes_done / 1e6 / elapsed:.1f} MB/s" if elapsed > 0.5 else ""
                self._bar.set_postfix_str(
                    f"{p.bytes_done / 1e6:.1f}/{p.bytes_total / 1e6:.1f} MB{rate}", refresh=False
                )
        self._bar.refresh()

    def close(self) -> None:
        """Remove the current bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
