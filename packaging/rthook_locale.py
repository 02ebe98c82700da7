"""PyInstaller runtime hook, run before the app's code: a frozen app gets no PEP 538 locale
coercion, so on a C or POSIX locale Qt would decode file names and arguments as ASCII. Switch the
character type to UTF-8 before Qt starts (the locale's other categories are left alone)."""

import locale
import os


def _ensure_utf8_ctype() -> None:
    if os.name != "posix":
        return
    current = os.environ.get("LC_ALL") or os.environ.get("LC_CTYPE") or os.environ.get("LANG", "")
    if current in ("", "C", "POSIX"):
        if os.environ.get("LC_ALL") in ("C", "POSIX"):
            del os.environ["LC_ALL"]
        os.environ["LC_CTYPE"] = "C.UTF-8"
        try:
            locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
        except locale.Error:
            pass


_ensure_utf8_ctype()
