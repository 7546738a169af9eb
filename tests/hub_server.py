"""A real HTTP server on 127.0.0.1 that speaks the part of the Hugging Face Hub's protocol huggingface_hub's
downloads use, serving model repositories from a local folder (`<root>/<owner>/<name>/...`):

    GET  /api/models/<repo>[/revision/<rev>]          model_info: {"id", "sha", "siblings"}
    GET  /api/models/<repo>/tree/<rev>[/<path>]       list_repo_tree (recursive=True lists every file)
    HEAD /<repo>/resolve/<rev>/<path>                 file metadata: X-Repo-Commit, ETag, Content-Length
    GET  /<repo>/resolve/<rev>/<path>                 the bytes (Range: bytes=N- resumes)

The commit of a repository is a hash of its files, so it changes when they do. Every request is recorded
(`server.requests`: (method, path)), so tests can assert which files were fetched and which never were.
`chunk_delay` slows each 64 KiB of a GET down, for tests that watch a download in flight.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

CHUNK = 64 * 1024


class HubServer:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.requests: list[tuple[str, str]] = []
        self.chunk_delay = 0.0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()

    def fetched(self) -> list[str]:
        """The repository paths whose bytes were GET (resolve), in order."""
        return [p.split("/resolve/", 1)[1].split("/", 1)[1] for m, p in self.requests
                if m == "GET" and "/resolve/" in p]

    # --- repositories -----------------------------------------------------------------------------------
    def files(self, repo: str) -> dict[str, Path]:
        base = self.root / repo
        return {p.relative_to(base).as_posix(): p for p in sorted(base.rglob("*")) if p.is_file()}

    def commit(self, repo: str) -> str:
        h = hashlib.sha1()
        for name, path in self.files(repo).items():
            h.update(name.encode() + b"\0" + hashlib.sha1(path.read_bytes()).digest())
        return h.hexdigest()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, data, status=200):
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _not_found(self, what):
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound" if "/resolve/" in self.path else "RepoNotFound")
                self.send_header("X-Error-Message", what)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _route(self, method):
                path = unquote(urlparse(self.path).path)
                server.requests.append((method, path))
                parts = path.strip("/").split("/")
                if parts[:2] == ["api", "models"] and len(parts) >= 4:
                    repo = "/".join(parts[2:4])
                    if not (server.root / repo).is_dir():
                        return self._not_found(f"Repository {repo} not found")
                    rest = parts[4:]
                    commit = server.commit(repo)
                    if not rest or rest[0] == "revision":
                        return self._json({"id": repo, "modelId": repo, "sha": commit, "private": False,
                                           "siblings": [{"rfilename": f} for f in server.files(repo)]})
                    if rest[0] == "tree":
                        prefix = "/".join(rest[2:])
                        entries = [{"type": "file", "path": f, "size": p.stat().st_size,
                                    "oid": hashlib.sha1(p.read_bytes()).hexdigest()}
                                   for f, p in server.files(repo).items() if f.startswith(prefix)]
                        return self._json(entries)
                    return self._not_found(path)
                if "resolve" in parts and len(parts) >= 5:
                    i = parts.index("resolve")
                    repo, name = "/".join(parts[:i]), "/".join(parts[i + 2:])
                    target = server.files(repo).get(name) if (server.root / repo).is_dir() else None
                    if target is None:
                        return self._not_found(f"{name} not found in {repo}")
                    data = target.read_bytes()
                    start = 0
                    ranged = self.headers.get("Range", "")
                    if ranged.startswith("bytes=") and ranged[6:].split("-")[0].isdigit():
                        start = int(ranged[6:].split("-")[0])
                    self.send_response(206 if start else 200)
                    self.send_header("X-Repo-Commit", server.commit(repo))
                    self.send_header("ETag", '"%s"' % hashlib.sha256(data).hexdigest())
                    self.send_header("Content-Length", str(len(data) - start))
                    if start:
                        self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                    self.end_headers()
                    if method == "GET":
                        for k in range(start, len(data), CHUNK):
                            self.wfile.write(data[k:k + CHUNK])
                            if server.chunk_delay:
                                time.sleep(server.chunk_delay)
                    return None
                return self._not_found(path)

            def do_GET(self):
                self._route("GET")

            def do_HEAD(self):
                self._route("HEAD")

        return Handler
