"""Tests for rnntui.data.download against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import pathlib
import socket
import sys
import threading
from collections import Counter
from typing import Iterator

import pytest

from rnntui.data import download
from rnntui.data.download import DATASETS, data_dir, fetch, sha1_of
from rnntui.errors import DataError

SHARED_DATA = pathlib.Path("/work/shared/data")
GOOD = b"the time traveller (for so it will be convenient to speak of him)\n" * 50
GOOD_SHA1 = hashlib.sha1(GOOD).hexdigest()
TIMEOUT = 2.0


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves the routes configured on the server: ("ok"|"drop"|"stall", bytes)."""

    server: "_Server"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep test output quiet."""

    def do_GET(self) -> None:  # noqa: N802
        """Answer according to the route's kind; unknown paths are 404."""
        self.server.hits[self.path] += 1
        kind, body = self.server.routes.get(self.path, ("404", b""))
        if kind == "404":
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if kind == "ok":
            self.wfile.write(body)
        elif kind == "drop":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif kind == "stall":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.server.release.wait(5.0)
            self.close_connection = True


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, tuple[str, bytes]]
    hits: Counter[str]
    release: threading.Event

    @property
    def url(self) -> str:
        """Base URL with a trailing slash."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


@pytest.fixture
def server() -> Iterator[_Server]:
    """A threaded HTTP server on an ephemeral 127.0.0.1 port."""
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.routes = {}
    srv.hits = Counter()
    srv.release = threading.Event()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.release.set()
        srv.shutdown()
        srv.server_close()
        thread.join(2.0)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    """Never touch the real cache or the real data URL."""
    monkeypatch.delenv("RNNTUI_DATA_URL", raising=False)
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(tmp_path / "default-cache"))


def _free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _names(directory: pathlib.Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def _parts(directory: pathlib.Path) -> list[str]:
    return [n for n in _names(directory) if n.endswith(".part")]


def test_fetch_writes_verified_file(server: _Server, tmp_path: pathlib.Path) -> None:
    server.routes["/good.txt"] = ("ok", GOOD)
    seen: list[tuple[int, int | None]] = []
    path = fetch(
        "good.txt",
        directory=tmp_path,
        base_url=server.url,
        sha1=GOOD_SHA1,
        timeout=TIMEOUT,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert path == tmp_path / "good.txt"
    assert path.read_bytes() == GOOD
    assert sha1_of(path) == GOOD_SHA1
    assert _names(tmp_path) == ["good.txt"]
    assert seen and seen[-1] == (len(GOOD), len(GOOD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_second_fetch_uses_cache(server: _Server, tmp_path: pathlib.Path) -> None:
    server.routes["/good.txt"] = ("ok", GOOD)
    kwargs = dict(directory=tmp_path, base_url=server.url, sha1=GOOD_SHA1, timeout=TIMEOUT)
    fetch("good.txt", **kwargs)
    assert server.hits["/good.txt"] == 1
    server.routes.clear()  # a network access now would fail
    path = fetch("good.txt", **kwargs)
    assert path.read_bytes() == GOOD
    assert server.hits["/good.txt"] == 1


def test_wrong_hash_is_discarded(server: _Server, tmp_path: pathlib.Path) -> None:
    server.routes["/good.txt"] = ("ok", b"not what you expected\n")
    with pytest.raises(DataError, match="sha1") as info:
        fetch("good.txt", directory=tmp_path, base_url=server.url, sha1=GOOD_SHA1, timeout=TIMEOUT)
    message = str(info.value)
    assert GOOD_SHA1 in message and "discarded" in message
    assert hashlib.sha1(b"not what you expected\n").hexdigest() in message
    assert "\n" not in message
    assert _names(tmp_path) == []


def test_dropped_connection_leaves_nothing(server: _Server, tmp_path: pathlib.Path) -> None:
    server.routes["/good.txt"] = ("drop", GOOD)
    with pytest.raises(DataError, match="could not download good.txt") as info:
        fetch("good.txt", directory=tmp_path, base_url=server.url, sha1=GOOD_SHA1, timeout=TIMEOUT)
    assert f"of {len(GOOD)} bytes" in str(info.value)
    assert _names(tmp_path) == []


def test_timeout_leaves_nothing(server: _Server, tmp_path: pathlib.Path) -> None:
    server.routes["/good.txt"] = ("stall", GOOD)
    with pytest.raises(DataError, match="timed out"):
        fetch("good.txt", directory=tmp_path, base_url=server.url, sha1=GOOD_SHA1, timeout=0.2)
    assert _names(tmp_path) == []


def test_404(server: _Server, tmp_path: pathlib.Path) -> None:
    with pytest.raises(DataError, match="404"):
        fetch("missing.txt", directory=tmp_path, base_url=server.url, sha1=GOOD_SHA1, timeout=TIMEOUT)
    assert _names(tmp_path) == []


def test_connection_refused_names_file_and_directory(tmp_path: pathlib.Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/"
    with pytest.raises(DataError) as info:
        fetch("timemachine.txt", directory=tmp_path, base_url=url, timeout=TIMEOUT)
    message = str(info.value)
    assert message.startswith(f"could not download timemachine.txt from {url}timemachine.txt (")
    assert f"put timemachine.txt (sha1 {DATASETS['timemachine.txt']}) in {tmp_path}" in message
    assert "\n" not in message
    assert _names(tmp_path) == []


def test_corrupt_existing_file_is_replaced(server: _Server, tmp_path: pathlib.Path) -> None:
    server.routes["/good.txt"] = ("ok", GOOD)
    (tmp_path / "good.txt").write_bytes(GOOD[:100])  # truncated by hand
    path = fetch("good.txt", directory=tmp_path, base_url=server.url, sha1=GOOD_SHA1, timeout=TIMEOUT)
    assert path.read_bytes() == GOOD
    assert server.hits["/good.txt"] == 1
    assert _names(tmp_path) == ["good.txt"]


def test_keyboard_interrupt_removes_temp_file(server: _Server, tmp_path: pathlib.Path) -> None:
    server.routes["/good.txt"] = ("ok", GOOD)

    def interrupt(done: int, total: int | None) -> None:
        assert _parts(tmp_path), "the temporary file should exist while downloading"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch(
            "good.txt",
            directory=tmp_path,
            base_url=server.url,
            sha1=GOOD_SHA1,
            timeout=TIMEOUT,
            progress=interrupt,
        )
    assert _names(tmp_path) == []


def test_unknown_name_without_sha1(tmp_path: pathlib.Path) -> None:
    with pytest.raises(DataError) as info:
        fetch("nope.bin", directory=tmp_path, base_url="http://127.0.0.1:9/")
    message = str(info.value)
    assert "nope.bin" in message
    for known in DATASETS:
        assert known in message


@pytest.mark.parametrize("bad", ["", "..", "../evil.txt", "sub/file.txt", "a\\b"])
def test_rejects_path_like_names(bad: str, tmp_path: pathlib.Path) -> None:
    with pytest.raises(DataError):
        fetch(bad, directory=tmp_path, base_url="http://127.0.0.1:9/", sha1=GOOD_SHA1)


def test_env_dir_and_url_are_honoured(
    server: _Server, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/good.txt"] = ("ok", GOOD)
    cache = tmp_path / "env-cache"
    monkeypatch.setenv("RNNTUI_DATA_DIR", str(cache))
    monkeypatch.setenv("RNNTUI_DATA_URL", server.url.rstrip("/"))  # no trailing slash
    assert data_dir() == cache
    path = fetch("good.txt", sha1=GOOD_SHA1, timeout=TIMEOUT)
    assert path == cache / "good.txt"
    assert path.read_bytes() == GOOD
    assert server.hits["/good.txt"] == 1


def test_data_dir_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.delenv("RNNTUI_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "rnntui"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data_dir() == pathlib.Path.home() / ".cache" / "rnntui"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert data_dir() == pathlib.Path.home() / "Library" / "Caches" / "rnntui"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert data_dir() == tmp_path / "local" / "rnntui" / "Cache"
    assert not (tmp_path / "xdg").exists()


def test_module_uses_only_stdlib() -> None:
    source = pathlib.Path(download.__file__).read_text(encoding="utf-8")
    for heavy in ("torch", "textual", "requests"):
        assert f"import {heavy}" not in source and f"from {heavy}" not in source


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_real_bytes_match_sha1_constants(
    name: str, server: _Server, tmp_path: pathlib.Path
) -> None:
    real = SHARED_DATA / name
    if not real.is_file():
        pytest.skip(f"{real} is absent")
    server.routes["/" + name] = ("ok", real.read_bytes())
    path = fetch(name, directory=tmp_path, base_url=server.url, timeout=TIMEOUT)
    assert sha1_of(path) == DATASETS[name]
    assert _names(tmp_path) == [name]
