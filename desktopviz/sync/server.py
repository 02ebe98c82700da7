"""``desktopviz serve DIR``: a store over HTTP (Starlette on uvicorn).

The protocol (docs/store-format.md, the sync contract): ``GET /health``; ``GET|HEAD /store/<path>``
with ETag, ``If-None-Match`` and ``Range``; ``GET /store/<dir>/?after=<name>`` lists a folder;
``POST /store/blobs/missing``; ``PUT`` of blobs, manifests and runs, each kept only when the bytes
hash to the name; ``PUT /store/journal/<n>.json`` with ``If-None-Match: *`` creates an entry
atomically (412 when it exists), and a version entry only once every blob its manifest names is
in the store. Writes need ``Authorization: Bearer <token>``; reads too unless ``public_read``.
The token is compared in constant time and never logged (the access log has no headers).

Public API: :func:`make_app`, :func:`serve`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import socket
import stat
import tempfile
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any, BinaryIO

import anyio.to_thread
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from desktopviz.errors import DesktopvizError, UnsafePathError
from desktopviz.store.packs import place_file
from desktopviz.sync.backend import Backend, Conflict, check_path
from desktopviz.sync.folder import TMP, FolderBackend

DEFAULT_MAX_UPLOAD = 4 << 30
MAX_JSON_UPLOAD = 256 << 20  # a manifest or run record (10,000 files' manifest: about 3 MB)
MAX_JOURNAL_ENTRY = 1 << 20
MAX_MISSING_QUERY = 16 << 20  # POST /store/blobs/missing: about 200,000 digests
MAX_LISTING = 10_000  # names in one listing answer ("truncated": true asks for the next page)
STORE_FORMAT = 1
SMALL_FILE = 256 << 10  # read whole and answered in one go (bigger ones stream, with Range)

_HEX64 = "[0-9a-f]{64}"
_BLOB = re.compile(rf"blobs/sha256/([0-9a-f]{{2}})/({_HEX64})")
_RECORD = re.compile(rf"(?:manifests|runs)/({_HEX64})\.json")
_JOURNAL = re.compile(r"journal/([0-9]{12,})\.json")
_DIGEST = re.compile(_HEX64)
_IMMUTABLE = re.compile(rf"(?:blobs/sha256/[0-9a-f]{{2}}/|manifests/|runs/)({_HEX64})(?:\.json)?")
_ENTRY_TYPES = {"version", "alias", "alias_removed", "run", "version_deleted"}
_RAW_ESCAPES = (b"%2f", b"%5c", b"%00", b"%2e")  # encoded '/', '\', NUL and '.': never needed


class _Refused(Exception):
    """A request the server answers with an error status and a one-line JSON reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _BigFileResponse(FileResponse):
    chunk_size = 1 << 20  # fewer thread hops per blob than Starlette's 64 KiB


def make_app(
    store_dir: str | os.PathLike[str],
    *,
    token: str | None,
    public_read: bool = False,
    max_upload: int = DEFAULT_MAX_UPLOAD,
) -> Starlette:
    """The ASGI app serving the store in ``store_dir`` (an empty or missing folder becomes a
    store). ``token`` None makes a read-only server: every write is refused with 403."""
    root = Path(store_dir).resolve()
    backend = _open_store(root)
    server = _StoreServer(root, backend, token, public_read, max_upload)
    app = Starlette(
        routes=[
            Route("/health", server.health, methods=["GET", "HEAD"]),
            Route("/store/{path:path}", server.store, methods=["GET", "HEAD", "PUT", "POST"]),
        ]
    )
    app.state.backend = backend
    return app


def _open_store(root: Path) -> Backend:
    """The store's folder backend; an empty (or missing) folder is made a store first."""
    from desktopviz.sync.store import init_store, read_store_info

    root.mkdir(parents=True, exist_ok=True)
    backend = FolderBackend(str(root))
    if not (root / "store.json").exists():
        if any(not name.startswith(".") and name != TMP for name in os.listdir(root)):
            raise DesktopvizError(
                "not a desktopviz store (no store.json) and not empty: serve an empty folder "
                "or a store",
                file=root,
            )
        init_store(backend)
    read_store_info(backend)
    return backend


class _StoreServer:
    """The request handlers, bound to one store folder."""

    def __init__(
        self, root: Path, backend: Backend, token: str | None, public_read: bool, max_upload: int
    ) -> None:
        self.root = root
        self.root_prefix = str(root) + os.sep
        self.backend = backend
        self.token = None if token is None else token.encode()
        self.public_read = public_read
        self.max_upload = max_upload
        self.tmp_dir = root / TMP  # the folder backend's staging folder: same file system
        self.tmp_dir.mkdir(exist_ok=True)

    # -- entry points -------------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True, "format": STORE_FORMAT})

    async def store(self, request: Request) -> Response:
        try:
            path, is_dir = self._store_path(request)
            method = request.method
            if method in ("GET", "HEAD"):
                self._check_token(request, write=False)
                if is_dir:
                    return await self._listing(path, request.query_params.get("after"))
                return await self._get(path, request)
            self._check_token(request, write=True)
            if method == "POST" and path == "blobs/missing":
                return await self._missing(request)
            if method == "PUT" and not is_dir:
                return await self._put(path, request)
            raise _Refused(405, f"{method} /store/{path} is not part of the store protocol")
        except _Refused as e:
            headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
            return JSONResponse({"error": e.message}, status_code=e.status, headers=headers)
        except UnsafePathError as e:  # the folder backend met a symlink in the store
            return JSONResponse({"error": str(e)}, status_code=404)
        except DesktopvizError as e:
            return JSONResponse({"error": str(e)}, status_code=400)

    # -- checks -------------------------------------------------------------------------------

    def _store_path(self, request: Request) -> tuple[str, bool]:
        """The store-relative path of the request (without its trailing ``/`` for a folder),
        refused with 400 when it is absolute, empty, has ``..`` or encoded separators."""
        raw = request.scope.get("raw_path") or b""
        if any(e in raw.lower() for e in _RAW_ESCAPES):
            raise _Refused(400, "refused store path: percent-encoded '.', '/', '\\' or NUL")
        path = request.path_params["path"]
        is_dir = path.endswith("/")
        try:
            check_path(path[:-1] if is_dir else path)
        except DesktopvizError as e:
            raise _Refused(400, str(e)) from None
        if path.split("/", 1)[0] == TMP or any(p.startswith(".") for p in path.split("/")):
            raise _Refused(404, f"/store/{path}: not in the store")
        return (path[:-1] if is_dir else path), is_dir

    def _check_token(self, request: Request, *, write: bool) -> None:
        if not write and (self.public_read or self.token is None):
            return
        if self.token is None:
            raise _Refused(403, "this server takes no writes (it was started without a token)")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self.token
        ):
            raise _Refused(401, "a valid token is needed (Authorization: Bearer <token>)")

    def _file(self, path: str) -> Path | None:
        """The file of ``path``, or None when it is missing or (through a symlink) outside."""
        full = os.path.realpath(os.path.join(self.root, path))
        if not full.startswith(self.root_prefix):
            return None
        return Path(full)

    # -- reads --------------------------------------------------------------------------------

    async def _get(self, path: str, request: Request) -> Response:
        full = self._file(path)
        try:
            st = None if full is None else full.stat()
        except OSError:
            st = None
        if st is None or not stat.S_ISREG(st.st_mode):
            raise _Refused(404, f"/store/{path}: not in the store")
        immutable = _IMMUTABLE.fullmatch(path)
        etag = f'"{immutable.group(1)}"' if immutable else f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
        private = "private" if self.token is not None and not self.public_read else "public"
        headers = {
            "etag": etag,
            "cache-control": (
                f"{private}, max-age=31536000, immutable" if immutable else f"{private}, no-cache"
            ),
        }
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        media = "application/json" if path.endswith(".json") else "application/octet-stream"
        if st.st_size <= SMALL_FILE and "range" not in request.headers:
            # read here, in one go: from the page cache that is tens of microseconds, less than
            # waking a worker thread (FileResponse takes four thread hops: 3 ms a file here)
            data = b"" if request.method == "HEAD" else _read(full)
            if data is not None:
                headers["content-length"] = str(st.st_size)
                headers["last-modified"] = formatdate(st.st_mtime, usegmt=True)
                headers["accept-ranges"] = "bytes"
                return Response(data, headers=headers, media_type=media)
        return _BigFileResponse(full, stat_result=st, headers=headers, media_type=media)

    async def _listing(self, folder: str, after: str | None) -> Response:
        def names() -> tuple[list[str], bool]:
            full = self._file(folder)
            if full is None:
                raise _Refused(404, f"/store/{folder}/: not in the store")
            try:
                with os.scandir(full) as it:
                    found = sorted(
                        e.name
                        for e in it
                        if not e.name.startswith(".")
                        and e.is_file(follow_symlinks=False)
                        and (after is None or e.name > after)
                    )
            except FileNotFoundError:  # a folder made on its first write: empty so far
                return [], False
            except NotADirectoryError:
                raise _Refused(404, f"/store/{folder}/: not a folder of the store") from None
            return found[:MAX_LISTING], len(found) > MAX_LISTING

        if after is not None and "/" in after:
            after = after.rsplit("/", 1)[1]  # a whole path works as well as a name
        found, truncated = await anyio.to_thread.run_sync(names)
        return JSONResponse({"names": found, "truncated": truncated})

    async def _missing(self, request: Request) -> Response:
        body = await _read_body(request, MAX_MISSING_QUERY)
        try:
            digests = json.loads(body)["digests"]
            if not isinstance(digests, list) or not all(
                isinstance(d, str) and _DIGEST.fullmatch(d) for d in digests
            ):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise _Refused(
                400, 'expected {"digests": [<sha256 hex>, ...]} (lower-case hex digests)'
            ) from None
        missing = await anyio.to_thread.run_sync(self._missing_of, digests)
        return JSONResponse({"missing": missing})

    def _missing_of(self, digests: list[str]) -> list[str]:
        root = str(self.root)
        return [d for d in digests if not os.path.isfile(f"{root}/blobs/sha256/{d[:2]}/{d}")]

    # -- writes -------------------------------------------------------------------------------

    async def _put(self, path: str, request: Request) -> Response:
        if m := _BLOB.fullmatch(path):
            if m.group(1) != m.group(2)[:2]:
                raise _Refused(400, f"/store/{path}: a blob lives under its digest's first two")
            return await self._put_blob(m.group(2), request)
        if m := _RECORD.fullmatch(path):
            data = await _read_body(request, min(self.max_upload, MAX_JSON_UPLOAD))
            if hashlib.sha256(data).hexdigest() != m.group(1):
                raise _Refused(400, f"{path}: the bytes do not hash to {m.group(1)}")
            await anyio.to_thread.run_sync(self.backend.put, path, data)
            return JSONResponse({"ok": True}, status_code=201)
        if m := _JOURNAL.fullmatch(path):
            return await self._put_entry(path, int(m.group(1)), request)
        if path == "store.json":
            return await self._create(path, await _read_body(request, MAX_JOURNAL_ENTRY), request)
        raise _Refused(400, f"/store/{path}: not a path the store takes writes at")

    async def _put_blob(self, digest: str, request: Request) -> Response:
        _check_length(request, self.max_upload)
        final = self._file(f"blobs/sha256/{digest[:2]}/{digest}")
        if final is None:
            raise _Refused(400, f"blob {digest}: its folder leads out of the store")
        if final.is_file():  # already here (blobs never change): read the bytes, keep nothing
            async for _ in _limited(request, self.max_upload):
                pass
            return JSONResponse({"ok": True, "existed": True})
        fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-")
        try:
            with os.fdopen(fd, "wb") as f:  # hashed on the way to disk: no second pass
                h = hashlib.sha256()
                buf = bytearray()

                def write(chunk: bytes) -> None:
                    h.update(chunk)
                    f.write(chunk)

                async for chunk in _limited(request, self.max_upload):
                    buf += chunk
                    if len(buf) >= 1 << 20:
                        await anyio.to_thread.run_sync(write, bytes(buf))
                        buf.clear()
                await anyio.to_thread.run_sync(write, bytes(buf))
                if h.hexdigest() != digest:
                    raise _Refused(
                        400, f"blob {digest}: the uploaded bytes hash to {h.hexdigest()}; not kept"
                    )
                await anyio.to_thread.run_sync(_keep_blob, f, Path(tmp), final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return JSONResponse({"ok": True}, status_code=201)

    async def _put_entry(self, path: str, n: int, request: Request) -> Response:
        if request.headers.get("if-none-match", "").strip() != "*":
            raise _Refused(428, f"{path}: a journal entry is created with If-None-Match: *")
        data = await _read_body(request, MAX_JOURNAL_ENTRY)
        if (self.root / path).exists():
            raise _Refused(412, f"{path} already exists")
        await anyio.to_thread.run_sync(self._check_entry, path, n, data)
        return await self._create(path, data, request)

    def _check_entry(self, path: str, n: int, data: bytes) -> None:
        """Refuse an entry that is not one JSON object numbered ``n``, that leaves a gap, or a
        version entry whose manifest or blobs are not all in the store."""
        try:
            entry = json.loads(data)
        except ValueError:
            raise _Refused(400, f"{path}: not JSON") from None
        if not isinstance(entry, dict) or entry.get("n") != n:
            raise _Refused(400, f'{path}: expected a JSON object with "n": {n}')
        if entry.get("type") not in _ENTRY_TYPES:
            raise _Refused(400, f"{path}: unknown entry type {entry.get('type')!r}")
        if n > 0 and not (self.root / f"journal/{n - 1:012d}.json").is_file():
            raise _Refused(400, f"{path}: entry {n - 1} is not in the journal yet")
        if entry["type"] == "version":
            self._check_version(path, entry)

    def _check_version(self, path: str, entry: dict[str, Any]) -> None:
        sha = entry.get("manifest")
        if not isinstance(sha, str) or not _DIGEST.fullmatch(sha):
            raise _Refused(400, f"{path}: a version entry names its manifest's sha256")
        try:
            manifest = json.loads((self.root / "manifests" / f"{sha}.json").read_bytes())
        except FileNotFoundError:
            raise _Refused(400, f"{path}: manifest {sha} is not in the store") from None
        except ValueError:
            raise _Refused(400, f"{path}: manifest {sha} is not JSON") from None
        if manifest.get("digest") != entry.get("digest"):
            raise _Refused(400, f"{path}: the entry's digest is not manifest {sha}'s")
        for digest in _manifest_blobs(manifest):
            if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
                raise _Refused(400, f"{path}: manifest {sha} names a bad digest {digest!r}")
            if not os.path.isfile(self.root / "blobs" / "sha256" / digest[:2] / digest):
                raise _Refused(
                    400, f"{path}: blob {digest} named by manifest {sha} is not in the store"
                )

    async def _create(self, path: str, data: bytes, request: Request) -> Response:
        if request.headers.get("if-none-match", "").strip() != "*":
            raise _Refused(428, f"{path}: created only with If-None-Match: *")
        try:
            await anyio.to_thread.run_sync(self.backend.create, path, data)
        except Conflict:
            raise _Refused(412, f"{path} already exists") from None
        return JSONResponse({"ok": True}, status_code=201)


def _keep_blob(f: BinaryIO, tmp: Path, final: Path) -> None:
    """Move a verified upload into place as FolderBackend.put_blob does (synced, then renamed:
    whoever wins a race, the bytes are the same, as the name is their digest)."""
    f.flush()
    os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    place_file(tmp, final)


def _read(path: Path) -> bytes | None:
    """The bytes of a small file; None when it vanished."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _manifest_blobs(manifest: dict[str, Any]) -> Iterator[Any]:
    """The blob digests a manifest names: its files' and its tables' Parquet files."""
    for f in manifest.get("files") or []:
        if f.get("sha256") is not None:
            yield f["sha256"]
    for t in manifest.get("tables") or []:
        if t.get("parquet_sha256") is not None:
            yield t["parquet_sha256"]


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _check_length(request: Request, limit: int) -> None:
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise _Refused(400, "bad Content-Length")
        if int(length) > limit:
            raise _Refused(413, f"the body is {length} bytes; this server takes at most {limit}")


async def _limited(request: Request, limit: int):  # noqa: ANN202 (an async iterator of bytes)
    """The request body's chunks, refused with 413 past ``limit`` bytes."""
    _check_length(request, limit)
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise _Refused(413, f"the body is over {limit} bytes, the most this server takes")
        yield chunk


async def _read_body(request: Request, limit: int) -> bytes:
    return b"".join([chunk async for chunk in _limited(request, limit)])


# -- running it ---------------------------------------------------------------------------------


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, every line (the access log too) on stderr: stdout has only the URL."""
    from uvicorn.config import LOGGING_CONFIG

    config = json.loads(json.dumps(LOGGING_CONFIG))
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


def serve(
    app: Starlette,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve ``app`` until SIGINT or SIGTERM; ``announce`` gets the URL once it listens (the
    real port when ``port`` is 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so (without it each
    # response waits ~40 ms for a delayed ACK, capping a connection at 22 requests a second)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # clients that come before uvicorn's loop runs wait in the backlog
    except OSError as e:
        sock.close()
        raise DesktopvizError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=_log_config(),
        access_log=True,
        server_header=False,
        timeout_graceful_shutdown=5,
        limit_concurrency=1000,
    )
    server = _QuietServer(config)
    announce(f"http://[{host}]:{bound}" if family == socket.AF_INET6 else f"http://{host}:{bound}")
    server.run(sockets=[sock])


class _QuietServer(uvicorn.Server):
    """uvicorn's Server, ending on SIGINT/SIGTERM by returning: uvicorn re-raises the signal
    after its graceful shutdown, which would end the process with 130 or by SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            getattr(self, "_captured_signals", []).clear()
