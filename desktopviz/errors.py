"""One exception tree; every error names the file, row or field it is about."""

from __future__ import annotations

from os import PathLike


class DesktopvizError(Exception):
    """Base of every error desktopviz raises on purpose.

    ``str(err)`` is one line a user can act on: ``<file>: row <n>: field <f>: <what is wrong>``.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | PathLike[str] | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.row = row
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        parts.append(self.message)
        return ": ".join(parts)

    def located(self, *, file=None, row=None, field=None) -> DesktopvizError:
        """Return the same error with missing location parts filled in."""
        err = type(self).__new__(type(self))
        DesktopvizError.__init__(
            err,
            self.message,
            file=self.file if self.file is not None else file,
            row=self.row if self.row is not None else row,
            field=self.field if self.field is not None else field,
        )
        return err


class FormatError(DesktopvizError):
    """Input that is not what its format promises (bad JSON, wrong row length, bad image)."""


class UnsafePathError(FormatError):
    """A path that would lead out of its root (``..``, absolute, symlink)."""


class LimitError(FormatError):
    """Input over a safety limit (file size, image pixels)."""


class NotFoundError(DesktopvizError):
    """A project, artifact, version, alias, table or file that is not in the cache."""


class CacheBusyError(DesktopvizError):
    """Another process holds the cache's write lock for longer than we wait."""


class Cancelled(DesktopvizError):
    """The user cancelled a long operation; nothing was changed."""

    def __init__(self, message: str = "cancelled", **kw) -> None:
        super().__init__(message, **kw)
