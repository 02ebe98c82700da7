"""A store in an S3 bucket (or any S3-compatible server): ``s3://bucket/prefix``.

Configured the standard AWS way, through botocore's own chain: ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, ``AWS_PROFILE`` and ``~/.aws/config``,
``AWS_DEFAULT_REGION``, instance roles, and ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``)
for an S3-compatible server (MinIO, Ceph, R2, ...). Reached through fsspec's ``s3fs``
(install the ``s3`` extra: ``pip install desktopviz[s3]``).

How the store's guarantees map onto S3:

- ``create`` (the journal's compare-and-set) is a ``PutObject`` with ``If-None-Match: *``: S3
  makes it atomic, so of two pushers racing for ``journal/<n>.json`` exactly one wins and the
  other gets :class:`Conflict` (HTTP 412) and retries with the next number; no entry is lost.
  A ``409 ConditionalRequestConflict`` (two conditional writes in flight) is retried. Before its
  first ``create`` a backend checks once that the server honours the condition (it writes a probe
  key twice under ``tmp/``); a server that ignores it is refused with an error rather than
  risking lost journal entries.
- ``put_blob`` never lets ``blobs/sha256/<aa>/<sha>`` hold unverified bytes: a small blob is read
  into memory and hashed before its one ``PutObject``; a large one is streamed as a multipart
  upload while being hashed, and the upload is completed (which is when the key appears) only
  when the digest matches, else aborted. (A bucket lifecycle rule with
  ``AbortIncompleteMultipartUpload`` cleans up after uploads whose process was killed.)
- ``missing_blobs`` sends HEAD requests concurrently (or, for many digests, lists the
  ``blobs/sha256/<aa>/`` folders involved); ``list`` is ``ListObjectsV2`` with ``StartAfter``;
  ``open`` reads by byte ranges from an offset.

Tables stay Parquet in the store: each manifest's ``tables[].parquet_sha256`` names a plain
Parquet file at ``blobs/sha256/<aa>/<sha>``, so query engines can read it in place. DuckDB, with
the same credentials, either through fsspec::

    import duckdb, s3fs
    con = duckdb.connect()
    con.register_filesystem(s3fs.S3FileSystem())
    con.sql("SELECT * FROM read_parquet('s3://bucket/prefix/blobs/sha256/ab/ab12...')")

or through its ``httpfs`` extension (``CREATE SECRET (TYPE s3, PROVIDER credential_chain)``, then
the same ``read_parquet('s3://...')``). Spark (``s3a://``) and Trino read the same keys.

Public API: :class:`S3Backend`.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO
from urllib.parse import urlsplit

from desktopviz.errors import DesktopvizError
from desktopviz.sync.backend import AuthError, Conflict, check_path
from desktopviz.sync.folder import blob_path

SMALL_BLOB = 16 * 2**20
"""Blobs up to this size are hashed in memory and sent in one PutObject."""
CHUNK = 8 * 2**20
"""Read and multipart part size."""
HEAD_CONCURRENCY = 32
"""Concurrent HEAD/LIST requests in :meth:`S3Backend.missing_blobs`."""
LIST_THRESHOLD = 2000
"""Above this many digests, ``missing_blobs`` lists blob folders instead of sending HEADs."""
CONFLICT_RETRIES = 8
"""Retries of a conditional write answered with 409 ConditionalRequestConflict."""

_NAMED_BY_DIGEST = re.compile(r"(?:manifests|runs)/([0-9a-f]{64})\.json")
_AUTH_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "AllAccessDisabled",
}


def _s3fs():
    try:
        import s3fs
    except ImportError as e:  # pragma: no cover - depends on the installed extras
        raise DesktopvizError(
            "s3:// stores need the s3 extra: pip install 'desktopviz[s3]' (fsspec, s3fs)"
        ) from e
    return s3fs


def _error_code(exc: BaseException) -> str | None:
    """The S3 error code behind an exception s3fs translated (or raised as it was)."""
    for e in (exc, exc.__cause__, exc.__context__):
        response = getattr(e, "response", None)
        if isinstance(response, dict):
            return response.get("Error", {}).get("Code")
    return None


class S3Backend:
    """A store at ``s3://bucket/prefix`` (see the module docstring)."""

    page_size = 1000
    """Keys per ListObjectsV2 page (``MaxKeys``; 1000 is S3's most)."""

    def __init__(self, url: str, **storage_options: object) -> None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise DesktopvizError(f"not an s3:// store URL: {url!r}")
        self.url = url
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        if self.prefix:
            check_path(self.prefix)
        options: dict = {
            "skip_instance_cache": True,
            "use_listings_cache": False,
            "default_block_size": CHUNK,
            "config_kwargs": {"max_pool_connections": 2 * HEAD_CONCURRENCY},
        }
        options.update(storage_options)
        self._fs = _s3fs().S3FileSystem(**options)
        self._conditional_checked = False
        self._lock = threading.Lock()

    # ---- paths and errors

    def _key(self, path: str) -> str:
        check_path(path)
        return f"{self.prefix}/{path}" if self.prefix else path

    def _full(self, path: str) -> str:
        """``bucket/key`` as s3fs names it."""
        return f"{self.bucket}/{self._key(path)}"

    def _path_of(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    @contextmanager
    def _errors(self, path: str = "", *, missing_ok: bool = False):
        """Turn s3fs/botocore errors into one-line desktopviz errors (a missing key stays a
        ``FileNotFoundError`` when ``missing_ok``; a missing bucket never does)."""
        where = f"{self.url.rstrip('/')}/{path}" if path else self.url
        try:
            yield
        except (DesktopvizError, FileExistsError):
            raise
        except FileNotFoundError as e:
            if _error_code(e) == "NoSuchBucket":
                raise DesktopvizError(f"{where}: no such bucket {self.bucket!r}") from e
            if missing_ok:
                raise
            raise DesktopvizError(f"{where}: not in the store") from e
        except PermissionError as e:
            raise AuthError(f"authentication failed for {self.url}") from e
        except Exception as e:
            code = _error_code(e)
            if code in _AUTH_CODES or type(e).__name__ in (
                "NoCredentialsError",
                "PartialCredentialsError",
            ):
                raise AuthError(f"authentication failed for {self.url}") from e
            message = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise DesktopvizError(f"{where}: {message}") from e

    def _call(self, method: str, path: str, *, missing_ok: bool = False, **kwargs) -> dict:
        with self._errors(path, missing_ok=missing_ok):
            return self._fs.call_s3(method, Bucket=self.bucket, **kwargs)

    # ---- reading

    def read(self, path: str) -> bytes | None:
        """The whole file (one GET), or None when it is not there."""
        key = self._key(path)

        async def get() -> bytes:
            response = await self._fs._call_s3("get_object", Bucket=self.bucket, Key=key)
            async with response["Body"] as body:
                return await body.read()

        try:
            with self._errors(path, missing_ok=True):
                return self._run(get())
        except FileNotFoundError:
            return None

    def open(self, path: str, offset: int = 0) -> BinaryIO:
        """A stream of the file from ``offset`` (ranged GETs, read ahead in :data:`CHUNK`\\s)."""
        with self._errors(path):
            f = self._fs.open(self._full(path), "rb", block_size=CHUNK, cache_type="readahead")
            f.seek(offset)
        return f  # type: ignore[return-value]

    def exists(self, path: str) -> bool:
        """Whether the file is there (one HEAD request)."""
        try:
            self._call("head_object", path, Key=self._key(path), missing_ok=True)
        except FileNotFoundError:
            return False
        return True

    def missing_blobs(self, digests: list[str]) -> set[str]:
        """Which of these sha256 digests the store lacks: concurrent HEADs, or folder listings
        when there are more than :data:`LIST_THRESHOLD` of them."""
        wanted = {d for d in digests if blob_path(d)}
        if not wanted:
            return set()
        with self._errors("blobs/"):
            if len(wanted) > LIST_THRESHOLD:
                present = self._run(self._list_blob_folders({d[:2] for d in wanted}))
            else:
                present = self._run(self._head_blobs(sorted(wanted)))
        return wanted - present

    def _run(self, coro):
        from fsspec.asyn import sync

        return sync(self._fs.loop, lambda: coro)

    async def _head_blobs(self, digests: list[str]) -> set[str]:
        gate = asyncio.Semaphore(HEAD_CONCURRENCY)

        async def head(digest: str) -> str | None:
            async with gate:
                try:
                    await self._fs._call_s3(
                        "head_object", Bucket=self.bucket, Key=self._key(blob_path(digest))
                    )
                except FileNotFoundError:
                    return None
                return digest

        return {d for d in await asyncio.gather(*(head(d) for d in digests)) if d}

    async def _list_blob_folders(self, folders: set[str]) -> set[str]:
        gate = asyncio.Semaphore(HEAD_CONCURRENCY)

        async def names(folder: str) -> list[str]:
            out: list[str] = []
            request: dict | None = self._list_request(f"blobs/sha256/{folder}/", None)
            async with gate:
                while request is not None:
                    paths, request = await self._list_page(request)
                    out.extend(p.rsplit("/", 1)[-1] for p in paths)
            return out

        found = await asyncio.gather(*(names(f) for f in sorted(folders)))
        return {name for group in found for name in group}

    def list(self, prefix: str, after: str | None = None) -> Iterator[str]:
        """Paths under ``prefix`` in name order (ListObjectsV2), only those after ``after``
        (a path under ``prefix``, or a name relative to it)."""
        if after is not None and not after.startswith(prefix):
            after = prefix + after
        request: dict | None = self._list_request(prefix, after)
        while request is not None:
            with self._errors(prefix):
                paths, request = self._run(self._list_page(request))
            yield from paths

    def _list_request(self, prefix: str, after: str | None) -> dict:
        if prefix:
            check_path(prefix.rstrip("/"))
        key_prefix = f"{self.prefix}/{prefix}" if self.prefix else prefix
        request = {"Bucket": self.bucket, "Prefix": key_prefix, "MaxKeys": self.page_size}
        if after is not None:
            request["StartAfter"] = self._key(after)
        return request

    async def _list_page(self, request: dict) -> tuple[list[str], dict | None]:
        """One page of store paths, and the request for the next page (None after the last)."""
        page = await self._fs._call_s3("list_objects_v2", **request)
        paths = [self._path_of(o["Key"]) for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return paths, None
        request = {k: v for k, v in request.items() if k != "StartAfter"}
        return paths, {**request, "ContinuationToken": page["NextContinuationToken"]}

    # ---- writing

    def put_blob(self, digest: str, stream: BinaryIO, size: int) -> None:
        """Store a blob under its sha256, verified before the blob key ever holds it."""
        path = blob_path(digest)
        if size <= SMALL_BLOB:  # one request; If-None-Match leaves a blob already there alone
            data = _read_exactly(stream, size, digest)
            if hashlib.sha256(data).hexdigest() != digest:
                raise _mismatch(digest)
            self._put_object(path, data, exclusive=True)
        elif not self.exists(path):
            self._put_multipart(path, stream, size, digest)

    def _put_multipart(self, path: str, stream: BinaryIO, size: int, digest: str) -> None:
        """Upload parts while hashing; complete the upload (which is when the key appears) only
        if the digest matches, else abort it: the blob key never holds unverified bytes."""
        key = self._key(path)
        upload = self._call("create_multipart_upload", path, Key=key)["UploadId"]
        try:
            h = hashlib.sha256()
            parts = []
            for number, chunk in enumerate(_chunks(stream, size, digest), start=1):
                h.update(chunk)
                etag = self._call(
                    "upload_part", path, Key=key, UploadId=upload, PartNumber=number, Body=chunk
                )["ETag"]
                parts.append({"PartNumber": number, "ETag": etag})
            if h.hexdigest() != digest:
                raise _mismatch(digest)
            try:
                self._call(
                    "complete_multipart_upload",
                    path,
                    Key=key,
                    UploadId=upload,
                    MultipartUpload={"Parts": parts},
                    IfNoneMatch="*",
                )
            except FileExistsError:
                return  # the same blob arrived meanwhile; ``finally`` drops this upload
            upload = None
        finally:
            if upload is not None:
                try:
                    self._call("abort_multipart_upload", path, Key=key, UploadId=upload)
                except DesktopvizError:
                    pass  # best effort; S3 lifecycle rules expire incomplete uploads

    def put(self, path: str, data: bytes) -> None:
        """Write an immutable file whole (one PutObject; a file already there is left as it
        is). A manifest or run record must be named by the sha256 of its bytes."""
        m = _NAMED_BY_DIGEST.fullmatch(path)
        if m and hashlib.sha256(data).hexdigest() != m.group(1):
            raise DesktopvizError(f"{path}: content does not match its sha256 name")
        self._put_object(path, data, exclusive=True)

    def create(self, path: str, data: bytes) -> None:
        """Create ``path`` only if it is not there (``If-None-Match: *``); else :class:`Conflict`."""
        self._check_conditional_writes()
        if not self._put_object(path, data, exclusive=True):
            raise Conflict(f"{self.url.rstrip('/')}/{path} already exists")

    def _put_object(self, path: str, data: bytes, *, exclusive: bool) -> bool:
        """PutObject, with ``If-None-Match: *`` when ``exclusive``; False when the key was
        already there (412). A 409 (a concurrent conditional write in flight) is retried."""
        condition = {"IfNoneMatch": "*"} if exclusive else {}
        for attempt in range(CONFLICT_RETRIES):
            try:
                self._call("put_object", path, Key=self._key(path), Body=data, **condition)
                return True
            except FileExistsError:
                return False
            except DesktopvizError as e:
                code = _error_code(e.__cause__ or e)
                if code == "PreconditionFailed":  # an s3fs that does not translate it
                    return False
                if code != "ConditionalRequestConflict":
                    raise
                time.sleep(0.05 * 2**attempt)
        raise DesktopvizError(f"{self.url.rstrip('/')}/{path}: conditional write kept conflicting")

    def _check_conditional_writes(self) -> None:
        """Once per backend: refuse a server that ignores ``If-None-Match: *`` on PutObject (it
        would let two pushers overwrite each other's journal entry)."""
        with self._lock:
            if self._conditional_checked:
                return
            probe = f"tmp/probe-{uuid.uuid4().hex}"
            try:
                self._put_object(probe, b"1", exclusive=True)
                honoured = not self._put_object(probe, b"2", exclusive=True)
            finally:
                with self._errors(probe):
                    self._fs.rm_file(self._full(probe))
            if not honoured:
                raise DesktopvizError(
                    f"{self.url}: the server ignores conditional writes (If-None-Match: *), so "
                    "concurrent pushes could overwrite each other's journal entries; refusing "
                    "to write the journal"
                )
            self._conditional_checked = True

    def close(self) -> None:
        """Let go of connections."""
        s3 = getattr(self._fs, "_s3creator", None)
        if s3 is not None:
            self._fs.close_session(self._fs.loop, s3)
            self._fs._s3 = None


def _mismatch(digest: str) -> DesktopvizError:
    return DesktopvizError(f"blob {digest}: bytes do not match their sha256, refused")


def _chunks(stream: BinaryIO, size: int, digest: str) -> Iterator[bytes]:
    """``size`` bytes of ``stream`` in chunks; a stream of another length is a mismatch."""
    left = size
    while left > 0:
        chunk = stream.read(min(CHUNK, left))
        if not chunk:
            raise _mismatch(digest)
        left -= len(chunk)
        yield chunk
    if stream.read(1):
        raise _mismatch(digest)


def _read_exactly(stream: BinaryIO, size: int, digest: str) -> bytes:
    buf = io.BytesIO()
    for chunk in _chunks(stream, size, digest):
        buf.write(chunk)
    return buf.getvalue()
