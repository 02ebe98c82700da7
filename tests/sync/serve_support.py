"""``desktopviz serve`` in a subprocess on 127.0.0.1 for the tests: started through the installed
console script with ``--port 0``, its URL read from its first line, stopped with SIGTERM."""

from __future__ import annotations

import contextlib
import http.client
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

DESKTOPVIZ = str(Path(sys.executable).parent / "desktopviz")
TOKEN = "tok-3f9a1c0d77e2"


@dataclass
class Served:
    """A running server: its URL, store folder, token, process and log file."""

    url: str
    store: Path
    token: str | None
    proc: subprocess.Popen[bytes]
    log: Path

    def request(
        self,
        method: str,
        raw_path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        token: str | None = "default",
    ) -> tuple[int, dict[str, str], bytes]:
        """One request with ``raw_path`` sent exactly as given (no client normalises it);
        the server's token unless ``token`` says otherwise (None: no Authorization)."""
        u = urlparse(self.url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        all_headers = dict(headers or {})
        send = self.token if token == "default" else token
        if send is not None:
            all_headers["Authorization"] = f"Bearer {send}"
        try:
            conn.request(method, raw_path, body=body, headers=all_headers)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop the server with ``sig``; its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def start_server(
    store: Path,
    *,
    token: str | None = TOKEN,
    public_read: bool = False,
    max_upload: int | None = None,
) -> Served:
    """Start ``desktopviz serve store --port 0`` and wait until it prints its URL."""
    args = [DESKTOPVIZ, "serve", str(store), "--host", "127.0.0.1", "--port", "0"]
    if token is not None:
        token_file = store.parent / f"{store.name}.token"
        token_file.write_text(token + "\n")
        token_file.chmod(0o600)
        args += ["--token-file", str(token_file)]
    if public_read:
        args.append("--public-read")
    if max_upload is not None:
        args += ["--max-upload", str(max_upload)]
    log = store.parent / f"{store.name}.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, env=os.environ.copy())
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    line = proc.stdout.readline().decode().strip() if ready else ""
    if not line.startswith("http://"):
        proc.kill()
        proc.wait()
        raise AssertionError(f"desktopviz serve did not start: {line!r}\n{log.read_text()}")
    return Served(line, store, token, proc, log)


@contextlib.contextmanager
def serving(store: Path, **options) -> Iterator[Served]:  # noqa: ANN003
    """A running server for the ``with`` block; stopped (exit code 0 expected) after it."""
    served = start_server(store, **options)
    try:
        yield served
    finally:
        code = served.stop()
        if served.proc.stdout is not None:
            served.proc.stdout.close()
    assert code == 0, served.log.read_text()


NGINX_CONF = """{user}
daemon off;
worker_processes 2;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {run}/access.log;
    {temp} uwsgi_temp_path {run}/uwsgi; scgi_temp_path {run}/scgi;
    types {{ application/json json; }}
    default_type application/octet-stream;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        location /store/ {{ alias {folder}/; }}
    }}
}}
"""


def start_nginx(folder: Path, run: Path) -> tuple[str, subprocess.Popen[bytes]] | str:
    """nginx on 127.0.0.1 serving ``folder`` read-only at ``/store/`` (no listings, no uploads:
    a plain static host), logging to ``run/access.log``: (its URL, its process), or why it
    cannot start. Stop it with SIGQUIT (a graceful stop)."""
    import shutil
    import socket
    import time

    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if nginx is None:
        return "nginx is not installed (.ci/run installs it with apt-get)"
    run.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read the 0700 tmp folders
    temp = " ".join(f"{k}_temp_path {run}/{k};" for k in ("client_body", "proxy", "fastcgi"))
    conf = run / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, run=run, temp=temp, port=port, folder=folder))
    proc = subprocess.Popen(
        [nginx, "-p", str(run), "-c", str(conf), "-e", str(run / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return f"http://127.0.0.1:{port}", proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                log = run / "error.log"
                return f"nginx did not start: {log.read_text()[-300:] if log.exists() else ''}"
            time.sleep(0.05)
