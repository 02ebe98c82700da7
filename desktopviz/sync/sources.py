"""Saved sync sources (a name for a store URL or a folder) and their tokens.

A source's name and URL live in the cache index (table ``sources``, migration 5); its token never
does. Tokens go to the OS keyring when the ``keyring`` library finds a usable backend there (not
its ``fail`` or ``null`` ones), else to ``tokens.json`` under the user config dir
(``platformdirs.user_config_dir("desktopviz")``), created readable by the user only (0600). A
token is given only to the URL it was saved for. ``--token-file F`` and ``$DESKTOPVIZ_TOKEN``
win over a saved token.

Public API: :class:`Source`, :func:`add_source`, :func:`sources`, :func:`source`,
:func:`remove_source`, :func:`token_for`, :func:`token_for_url`,
:func:`token_location`, :func:`read_token_file`, :func:`is_url`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.store.cache import Cache

TOKEN_ENV = "DESKTOPVIZ_TOKEN"
KEYRING_SERVICE = "desktopviz"
TOKENS_FILE = "tokens.json"
URL_SCHEMES = ("http://", "https://", "s3://")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Source:
    """A saved source: where it is, when it was last synced, how far, how many versions."""

    name: str
    url: str
    added_at: str | None
    last_sync: str | None
    cursor: int | None
    versions: int
    state: str | None

    @property
    def is_folder(self) -> bool:
        """Whether the source is a folder (a store folder or a folder of W&B runs)."""
        return not is_url(self.url)


def is_url(text: str) -> bool:
    """Whether ``text`` names a store by URL (http, https, s3) rather than a folder."""
    return text.lower().startswith(URL_SCHEMES)


def _location(url: str) -> str:
    """The URL as saved: a URL as given (without a trailing slash), a folder as an absolute path."""
    if is_url(url):
        return url.rstrip("/")
    path = Path(url).expanduser()
    if not path.is_dir():
        raise DesktopvizError(
            "no such folder (a source is an http(s):// or s3:// URL, or a folder)", file=path
        )
    return str(path.resolve())


def add_source(cache: Cache, name: str, url: str, token: str | None = None) -> Source:
    """Save ``url`` (a store URL, a store folder or a folder of W&B runs) as source ``name``,
    with its token if given (kept out of the index)."""
    if not _NAME.match(name):
        raise DesktopvizError(
            f"source name {name!r}: use letters, digits, '.', '_' and '-' (up to 64, not '/' or ':')"
        )
    if cache.source(name) is not None:
        raise DesktopvizError(
            f"a source named {name!r} exists already: remove it first (sources rm {name})"
        )
    location = _location(url)
    _forget_token(name)  # one left behind by an earlier source of this name never carries over
    if token:
        _save_token(name, location, token)
    cache.add_source(name, location, replace=False)
    return source(cache, name)


def sources(cache: Cache) -> list[Source]:
    """Every saved source, by name (a store synced by its URL or path is saved under it)."""
    return [
        Source(
            s["name"],
            s["url"],
            s["added_at"],
            s["last_sync"],
            s["cursor"],
            s["versions"],
            s["state"],
        )
        for s in cache.sources()
    ]


def source(cache: Cache, name: str) -> Source:
    """The saved source ``name``, or a :class:`NotFoundError`."""
    for s in sources(cache):
        if s.name == name:
            return s
    raise NotFoundError(f"no saved source {name!r} (see `desktopviz sources ls`)")


def remove_source(cache: Cache, name: str) -> None:
    """Forget source ``name``, its sync records and its token (the versions it brought stay)."""
    source(cache, name)
    cache.remove_source(name)
    _forget_token(name)


def read_token_file(path: str | os.PathLike[str]) -> str:
    """The token in ``path`` (its first line, stripped)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise DesktopvizError(f"cannot read the token file: {e.strerror or e}", file=path) from e
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not token:
        raise DesktopvizError("the token file is empty", file=path)
    return token


def token_for(
    name: str | None,
    url: str | None = None,
    *,
    token_file: str | os.PathLike[str] | None = None,
) -> str | None:
    """The token to send to source ``name`` at ``url``: ``token_file``'s, else
    ``$DESKTOPVIZ_TOKEN``, else the one saved with the source (only if it was saved for this
    ``url``, when one is given), else None."""
    if token_file is not None:
        return read_token_file(token_file)
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV].strip()
    if not name:
        return None
    saved = _load_token(name)
    if saved is None:
        return None
    if url is not None and saved.get("url") not in (None, _saved_form(url)):
        return None
    return saved.get("token")


def token_for_url(cache: Cache, url: str) -> str | None:
    """The token for a store named by URL or folder: ``$DESKTOPVIZ_TOKEN``, else the one saved
    with the source that has this URL, if any."""
    wanted = _saved_form(url)
    name = next((s.name for s in sources(cache) if s.url == wanted), None)
    return token_for(name, wanted)


def _saved_form(url: str) -> str:
    if is_url(url):
        return url.rstrip("/")
    return str(Path(url).expanduser().resolve())


# -- where tokens are kept ---------------------------------------------------------------
def _keyring() -> Any | None:
    """The keyring backend when it is a usable one, else None (then tokens go to a file)."""
    try:
        import keyring
        from keyring.backends import fail, null
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration: the file is used instead
        return None
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    if getattr(backend, "backends", None) == []:  # a chainer with nothing to chain
        return None
    return backend


def _save_token(name: str, url: str, token: str) -> None:
    value = json.dumps({"url": url, "token": token})
    backend = _keyring()
    if backend is not None:
        try:
            backend.set_password(KEYRING_SERVICE, name, value)
            return
        except Exception:  # a locked or unreachable keyring: the private file instead
            pass
    tokens = _read_tokens_file()
    tokens[name] = {"url": url, "token": token}
    _write_tokens_file(tokens)


def _load_token(name: str) -> dict[str, Any] | None:
    backend = _keyring()
    if backend is not None:
        try:
            value = backend.get_password(KEYRING_SERVICE, name)
        except Exception:
            value = None
        if value:
            try:
                saved = json.loads(value)
            except json.JSONDecodeError:
                saved = {"token": value}  # saved by hand with `keyring set desktopviz NAME`
            if isinstance(saved, dict):
                return saved
    saved = _read_tokens_file().get(name)
    return saved if isinstance(saved, dict) else None


def _forget_token(name: str) -> None:
    backend = _keyring()
    if backend is not None:
        with contextlib.suppress(Exception):  # none saved there (PasswordDeleteError) or locked
            backend.delete_password(KEYRING_SERVICE, name)
    tokens = _read_tokens_file()
    if name in tokens:
        del tokens[name]
        _write_tokens_file(tokens)


def token_location() -> str:
    """Where saved tokens go here: the keyring backend's name, or the private file's path."""
    backend = _keyring()
    if backend is not None:
        return f"the OS keyring ({getattr(backend, 'name', type(backend).__name__)})"
    return str(tokens_path())


def tokens_path() -> Path:
    """The file that keeps tokens where there is no usable keyring."""
    import platformdirs

    return Path(platformdirs.user_config_dir("desktopviz")) / TOKENS_FILE


def _read_tokens_file() -> dict[str, Any]:
    path = tokens_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as e:
        raise DesktopvizError(f"cannot read the saved tokens: {e}", file=path) from e
    return data if isinstance(data, dict) else {}


def _write_tokens_file(tokens: dict[str, Any]) -> None:
    """Replace the tokens file atomically by one created readable by the user only."""
    path = tokens_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tokens-")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(tokens, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
