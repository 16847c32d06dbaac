"""Download and cache the d2l data files, verified by sha1.

Only the standard library is used, so this module can be imported (and the
data fetched) before any heavy dependency is loaded.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import pathlib
import sys
import tempfile
import urllib.error
import urllib.request
from typing import BinaryIO, Callable, Optional, Union

from rnntui.errors import DataError
from rnntui.paths import data_dir

__all__ = ["DATA_URL", "DATASETS", "data_dir", "sha1_of", "fetch"]

DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"

DATASETS: dict[str, str] = {
    "timemachine.txt": "090b5e7e70c295757f55df93cb0a180b9691891a",
    "fra-eng.zip": "94646ad1522d915e7b0f9296181140edcf86a4f5",
}

_CHUNK = 64 * 1024

PathLike = Union[str, "os.PathLike[str]"]
Progress = Callable[[int, Optional[int]], object]


def sha1_of(path: PathLike) -> str:
    """Return the hex sha1 of the file at `path`, read in chunks."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _base_url(base_url: Optional[str]) -> str:
    """Resolve the base URL (argument, then $RNNTUI_DATA_URL, then DATA_URL), with a trailing slash."""
    url = base_url or os.environ.get("RNNTUI_DATA_URL") or DATA_URL
    return url if url.endswith("/") else url + "/"


def _one_line(text: object) -> str:
    """Collapse an exception or reason into a single line."""
    return " ".join(str(text).split()) or "unknown error"


def _reason(exc: BaseException, timeout: float) -> str:
    """A short, human-readable reason for a network failure."""
    if isinstance(exc, urllib.error.HTTPError):
        return _one_line(f"HTTP {exc.code} {exc.reason}")
    if isinstance(exc, urllib.error.URLError):
        inner = exc.reason
        if isinstance(inner, TimeoutError):
            return f"timed out after {timeout:g} s"
        if isinstance(inner, OSError) and inner.strerror:
            return _one_line(inner.strerror)
        return _one_line(inner)
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, http.client.IncompleteRead):
        return f"connection closed after {len(exc.partial)} bytes"
    if isinstance(exc, OSError) and exc.strerror:
        return _one_line(exc.strerror)
    return _one_line(exc) if str(exc) else type(exc).__name__


def _check_name(name: str) -> None:
    """Reject names that are not a plain file name (no directories, no '..')."""
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\0" in name
        or os.path.basename(name) != name
    ):
        raise DataError(f"invalid data file name {name!r}: expected a plain file name")


def _fsync_dir(directory: pathlib.Path) -> None:
    """Best-effort fsync of a directory so a rename survives a crash (POSIX only)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _stream(
    url: str,
    out: BinaryIO,
    timeout: float,
    progress: Optional[Progress],
    network_error: Callable[[str], DataError],
    write_error: Callable[[OSError], DataError],
) -> str:
    """Stream `url` into `out`; return the hex sha1 of what was written."""
    digest = hashlib.sha1()
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise network_error(_reason(exc, timeout)) from exc
    with response:
        total: Optional[int] = None
        length = response.headers.get("Content-Length")
        if length is not None:
            try:
                total = int(length)
            except ValueError:
                total = None
            if total is not None and total < 0:
                total = None
        done = 0
        while True:
            try:
                chunk = response.read(_CHUNK)
            except (OSError, http.client.HTTPException) as exc:
                raise network_error(_reason(exc, timeout)) from exc
            if not chunk:
                break
            try:
                out.write(chunk)
            except OSError as exc:
                raise write_error(exc) from exc
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        if total is not None and done != total:
            raise network_error(f"connection closed after {done} of {total} bytes")
    return digest.hexdigest()


def fetch(
    name: str,
    *,
    directory: Optional[PathLike] = None,
    base_url: Optional[str] = None,
    sha1: Optional[str] = None,
    timeout: float = 30.0,
    progress: Optional[Progress] = None,
) -> pathlib.Path:
    """Return the path of a verified copy of `name` in `directory`, downloading it if needed.

    A file already present with the right sha1 is returned without network access.
    Downloads go to a hidden temporary file that is renamed into place only after
    the length and sha1 check out; on any failure it is removed.
    """
    _check_name(name)
    if sha1 is None:
        try:
            sha1 = DATASETS[name]
        except KeyError:
            known = ", ".join(sorted(DATASETS))
            raise DataError(
                f"unknown data file {name!r} and no sha1 given; known data files: {known}"
            ) from None
    sha1 = sha1.strip().lower()
    folder = pathlib.Path(directory).expanduser() if directory is not None else data_dir()
    target = folder / name

    if target.is_file():
        try:
            if sha1_of(target) == sha1:
                return target
        except OSError as exc:
            raise DataError(f"could not read {target} ({_one_line(exc.strerror or exc)})") from exc

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"could not create data directory {folder} ({_one_line(exc.strerror or exc)})"
        ) from exc

    url = _base_url(base_url) + name

    def network_error(reason: str) -> DataError:
        return DataError(
            f"could not download {name} from {url} ({reason}); "
            f"with no network, put {name} (sha1 {sha1}) in {folder}"
        )

    def write_error(exc: OSError) -> DataError:
        return DataError(f"could not write {name} to {folder} ({_one_line(exc.strerror or exc)})")

    try:
        tmp = tempfile.NamedTemporaryFile(
            dir=folder, delete=False, prefix="." + name + ".", suffix=".part"
        )
    except OSError as exc:
        raise write_error(exc) from exc

    tmp_path = pathlib.Path(tmp.name)
    done = False
    try:
        with tmp:
            got = _stream(url, tmp, timeout, progress, network_error, write_error)
            if got != sha1:
                raise DataError(
                    f"{name} from {url} has sha1 {got}, expected {sha1}; the download was discarded"
                )
            try:
                tmp.flush()
                os.fsync(tmp.fileno())
            except OSError as exc:
                raise write_error(exc) from exc
        try:
            # NamedTemporaryFile is private (0600); make the data file ordinary.
            os.chmod(tmp_path, 0o644)
        except OSError:
            pass
        try:
            os.replace(tmp_path, target)
        except OSError as exc:
            raise write_error(exc) from exc
        done = True
    finally:
        if not done:
            try:
                tmp_path.unlink()
            except FileNotFoundError:
                pass
            except OSError:  # pragma: no cover - nothing more we can do
                pass
    _fsync_dir(folder)
    return target
