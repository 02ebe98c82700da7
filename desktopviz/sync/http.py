"""A store over HTTP (:class:`HttpBackend`): ``desktopviz serve``, or read-only any static host
(nginx) that serves the store folder at ``<url>/store/``.

One thread-safe urllib3 pool per backend (keep-alive connections, shared by the sync's download
threads), timeouts on connecting and reading, and retries of connection errors and 502/503/504
for the requests that are safe to repeat (reads; content-addressed uploads only before their
body went out). 401 and 403 become :class:`AuthError` ``authentication failed for <url>``; a
server that cannot be reached, or that breaks off mid-transfer, a one-line
:class:`DesktopvizError`.

On a static host, which has neither ``POST /store/blobs/missing`` nor folder listings,
:meth:`HttpBackend.missing_blobs` asks with a HEAD per blob and ``list("journal/")`` probes
entry numbers upward until one is missing (the entries it read are kept for the next ``read``).

Public API: :class:`HttpBackend`.
"""

from __future__ import annotations

import io
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util import Retry, Timeout

from desktopviz.errors import DesktopvizError
from desktopviz.sync.backend import AuthError, Conflict, check_path

POOL_SIZE = 16  # keep-alive connections to the host (the sync downloads with 8 threads)
MISSING_BATCH = 10_000  # digests per POST /store/blobs/missing
_JOURNAL = "journal/"
_JOURNAL_CACHE = 4096  # entries read while probing a static host's journal, kept for read()
_NO_LISTING = (403, 404, 405, 501)  # a static host's answer to a folder or to POST
_READ_RETRY = Retry(
    total=4,
    connect=3,
    read=2,
    status=3,
    other=0,
    backoff_factor=0.2,
    status_forcelist=(502, 503, 504),
    allowed_methods=frozenset({"GET", "HEAD", "POST"}),  # POST: only blobs/missing, a query
    raise_on_status=False,
    raise_on_redirect=False,
)
_WRITE_RETRY = Retry(total=2, connect=2, read=0, status=0, other=0, backoff_factor=0.2)


class HttpBackend:
    """The :class:`~desktopviz.sync.backend.Backend` of a store at an http(s) URL."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        self.url = url
        self._base = url.rstrip("/") + "/store/"
        self._headers = {"User-Agent": _user_agent()}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._pool = urllib3.PoolManager(
            num_pools=4,
            maxsize=POOL_SIZE,
            block=False,
            timeout=Timeout(connect=connect_timeout, read=read_timeout),
            retries=_READ_RETRY,
            blocksize=1 << 20,  # the chunk an upload's body is sent in
        )
        self._static: bool | None = None  # None: not known yet whether the host lists folders
        self._probed: OrderedDict[str, bytes] = OrderedDict()
        self._probed_lock = threading.Lock()

    # -- requests -------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        retries: Retry | None = None,
        stream: bool = False,
        auth_statuses: tuple[int, ...] = (401, 403),
    ) -> urllib3.BaseHTTPResponse:
        url = self._base + quote(path, safe="/")
        if query:
            url += "?" + urlencode(query)
        try:
            resp = self._pool.request(
                method,
                url,
                body=body,
                headers={**self._headers, **(headers or {})},
                retries=retries,
                preload_content=not stream,
                redirect=method in ("GET", "HEAD"),
            )
        except Urllib3Error as e:
            raise DesktopvizError(f"cannot reach {self.url}: {_reason(e)}") from None
        if resp.status in auth_statuses:
            _discard(resp)
            raise AuthError(f"authentication failed for {self.url}")
        return resp

    def _fail(self, resp: urllib3.BaseHTTPResponse, path: str) -> DesktopvizError:
        """The error of an unexpected answer, with the server's own reason when it gave one."""
        reason = ""
        try:
            data = resp.data if resp.data is not None else b""
            reason = json.loads(data).get("error", "")
        except (ValueError, AttributeError, Urllib3Error):
            pass
        if resp.status in (405, 501) and not reason:
            reason = "the server takes no writes there (a read-only or static host?)"
        return DesktopvizError(
            f"{path}: HTTP {resp.status}" + (f": {reason}" if reason else ""), file=self.url
        )

    # -- reading --------------------------------------------------------------------------
    def read(self, path: str) -> bytes | None:
        """The whole file, or None when it is not there."""
        check_path(path)
        with self._probed_lock:
            probed = self._probed.pop(path, None)
        if probed is not None:
            return probed
        resp = self._request("GET", path)
        if resp.status == 404:
            return None
        if resp.status != 200:
            raise self._fail(resp, path)
        return resp.data

    def open(self, path: str, offset: int = 0) -> BinaryIO:
        """A stream of the file from ``offset`` (a Range request); an error naming the path
        when it is not there. Close it (or read it to the end) to give its connection back."""
        check_path(path)
        headers = {"Range": f"bytes={offset}-"} if offset else None
        resp = self._request("GET", path, headers=headers, stream=True)
        if resp.status == 404:
            _discard(resp)
            raise DesktopvizError(f"{path} is not in the store", file=self.url)
        if resp.status == 416:  # offset at the end: nothing left to read
            _discard(resp)
            return io.BytesIO(b"")  # type: ignore[return-value]
        if resp.status not in (200, 206):
            raise self._fail(resp, path)  # reads the (short) error body, then lets go of it
        stream = _Stream(resp, path, self.url)
        if offset and resp.status == 200:  # the host ignored Range: skip to the offset
            left = offset
            while left > 0:
                chunk = stream.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
        return stream  # type: ignore[return-value]

    def exists(self, path: str) -> bool:
        """Whether the file is there (a HEAD request)."""
        check_path(path)
        resp = self._request("HEAD", path)
        if resp.status == 404:
            return False
        if resp.status != 200:
            raise self._fail(resp, path)
        return True

    def missing_blobs(self, digests: list[str]) -> set[str]:
        """Which digests the store lacks: one POST per 10,000 on ``desktopviz serve``, a HEAD
        per blob (8 at a time) on a static host."""
        missing: set[str] = set()
        for start in range(0, len(digests), MISSING_BATCH):
            batch = digests[start : start + MISSING_BATCH]
            answer = None if self._static else self._ask_missing(batch)
            if answer is None:
                with ThreadPoolExecutor(8) as pool:
                    there = pool.map(lambda d: self.exists(_blob_path(d)), batch)
                    answer = {d for d, ok in zip(batch, there, strict=True) if not ok}
            missing |= answer
        return missing

    def _ask_missing(self, digests: list[str]) -> set[str] | None:
        resp = self._request(
            "POST",
            "blobs/missing",
            body=json.dumps({"digests": digests}).encode(),
            headers={"Content-Type": "application/json"},
            auth_statuses=(401,),
        )
        if resp.status in _NO_LISTING:
            self._static = True
            return None
        if resp.status != 200:
            raise self._fail(resp, "blobs/missing")
        return set(_json(resp, "blobs/missing", self.url)["missing"])

    def list(self, prefix: str, after: str | None = None) -> Iterator[str]:
        """Paths under the folder ``prefix`` in name order, after ``after`` (a path). A static
        host lists only the journal, by probing entry numbers."""
        folder = prefix.rstrip("/")
        check_path(folder)
        name = after.rsplit("/", 1)[-1] if after else None
        while not self._static:
            query = {"after": name} if name else None
            resp = self._request("GET", folder + "/", query=query, auth_statuses=(401,))
            listing = _listing(resp)
            if listing is None:
                self._static = True
                break
            names, truncated = listing
            for n in names:
                yield f"{folder}/{n}"
            if not truncated or not names:
                return
            name = names[-1]
        if prefix != _JOURNAL:
            raise DesktopvizError(
                f"cannot list {prefix} of a static host (only the journal)", file=self.url
            )
        yield from self._probe_journal(name)

    def _probe_journal(self, after: str | None) -> Iterator[str]:
        n = int(after.split(".", 1)[0]) + 1 if after else 0
        while True:
            path = f"journal/{n:012d}.json"
            data = self.read(path)
            if data is None:
                return
            with self._probed_lock:
                self._probed[path] = data
                while len(self._probed) > _JOURNAL_CACHE:
                    self._probed.popitem(last=False)
            yield path
            n += 1

    # -- writing --------------------------------------------------------------------------
    def put_blob(self, digest: str, stream: BinaryIO, size: int) -> None:
        """Upload a blob (the server keeps it only when its sha256 is ``digest``)."""
        path = _blob_path(digest)
        headers = {"Content-Length": str(size), "Content-Type": "application/octet-stream"}
        resp = self._request("PUT", path, body=stream, headers=headers, retries=_WRITE_RETRY)
        if resp.status not in (200, 201):
            raise self._fail(resp, path)

    def put(self, path: str, data: bytes) -> None:
        """Upload a content-addressed file (a manifest or run record) whole."""
        check_path(path)
        resp = self._request("PUT", path, body=data, retries=_WRITE_RETRY)
        if resp.status not in (200, 201):
            raise self._fail(resp, path)

    def create(self, path: str, data: bytes) -> None:
        """Create ``path`` unless it exists (``If-None-Match: *``); :class:`Conflict` on 412."""
        check_path(path)
        resp = self._request(
            "PUT", path, body=data, headers={"If-None-Match": "*"}, retries=_WRITE_RETRY
        )
        if resp.status == 412:
            raise Conflict(f"{path} exists already", file=self.url)
        if resp.status not in (200, 201):
            raise self._fail(resp, path)

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.clear()

    def __repr__(self) -> str:
        return f"HttpBackend({self.url!r})"


class _Stream(io.RawIOBase):
    """A response body as a binary file; errors mid-transfer name the path."""

    def __init__(self, resp: urllib3.BaseHTTPResponse, path: str, url: str) -> None:
        self._resp = resp
        self._path = path
        self._url = url
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._resp.read(None if size is None or size < 0 else size)
        except (Urllib3Error, OSError) as e:
            raise DesktopvizError(
                f"{self._path}: the transfer broke off ({_reason(e)})", file=self._url
            ) from None
        if not data or size is None or size < 0:
            self._done = True
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            if not self._done:
                self._resp.close()  # a part left unread: the connection cannot be reused
            self._resp.release_conn()
        super().close()


def _blob_path(digest: str) -> str:
    from desktopviz.sync.folder import blob_path

    return blob_path(digest)


def _listing(resp: urllib3.BaseHTTPResponse) -> tuple[list[str], bool] | None:
    """The names of a ``desktopviz serve`` folder listing, or None for any other answer."""
    if resp.status != 200 or "json" not in resp.headers.get("Content-Type", ""):
        return None
    try:
        doc = json.loads(resp.data)
        names = doc["names"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    for n in names:
        check_path(n)  # a server naming "../x" is refused, not followed
    return names, bool(doc.get("truncated"))


def _json(resp: urllib3.BaseHTTPResponse, path: str, url: str) -> dict[str, Any]:
    try:
        doc = json.loads(resp.data)
        if isinstance(doc, dict):
            return doc
    except ValueError:
        pass
    raise DesktopvizError(f"{path}: the server's answer is not the JSON expected", file=url)


def _discard(resp: urllib3.BaseHTTPResponse) -> None:
    resp.drain_conn()
    resp.release_conn()


def _reason(e: BaseException) -> str:
    """A short reason for a network error: the operating system's words where there are some
    (``connection refused``), else urllib3's error without its long preamble."""
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror and not isinstance(seen, Urllib3Error):
            return seen.strerror.lower()
        nxt = getattr(seen, "reason", None)
        seen = nxt if isinstance(nxt, BaseException) else seen.__cause__ or seen.__context__
    text = str(getattr(e, "reason", None) or e)
    return text.rsplit(": ", 1)[-1] if ": " in text else text


def _user_agent() -> str:
    from desktopviz import __version__

    return f"desktopviz/{__version__}"
