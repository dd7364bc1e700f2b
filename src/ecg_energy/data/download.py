"""Download PhysioNet databases as users have them, from PhysioNet or a mirror in its layout.

``ecg-energy download vfdb cudb mitdb --to DIR`` fetches each database's records (its RECORDS
file), their headers, signal files and annotation files (its ANNOTATORS file, else ``atr``) into
``DIR/<db>``, from PhysioNet's file index or ``--url`` (a mirror). Every name the server gives
(records, the signal files its headers name, annotators) is checked before anything is written:
a relative path in the database's own layout (folders separated by ``/``), each part a plain file
name (letters, digits, ``_ - + .``, not starting with a dot), so no ``..``, no absolute path, no
backslash can place a file outside ``DIR/<db>``; one bad name refuses the whole database in one
line. Each file is downloaded to a hidden temporary name beside its place (``.<name>.part``,
resumed from where it stopped) and moved in only after its SHA-256 matches the database's
published ``SHA256SUMS.txt`` (or, where none is published, its size matches the server's); a
mismatch is fetched again once, then refused. A file already in place that matches is kept; one
that does not (cut short by an earlier version of this tool) is completed from its end.

The version is ours to give (the PhysioNet versions below, or ``--version``).
"""

from __future__ import annotations

import os
import posixpath
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from ..errors import DataError, output_error
from ..fsio import sha256_file as _sha256

PHYSIONET_FILES = "https://physionet.org/files/"
VERSIONS = {"mitdb": "1.0.0", "vfdb": "1.0.0", "cudb": "1.0.0", "nsrdb": "1.0.0",
            "svdb": "1.0.0", "afdb": "1.0.0", "incartdb": "1.0.0"}  # fmt: skip
TIMEOUT_S = 30.0
_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$")  # one part of a name in the layout
_ANNOTATOR = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_+-]{0,31}$")


def safe_name(name: str, what: str, nested: bool = True) -> str:
    """``name`` if it is a relative path in a database's layout (``/``-separated plain parts;
    one part only with ``nested=False``), else a DataError naming it."""
    parts = name.split("/") if isinstance(name, str) else [None]
    if (not isinstance(name, str) or not name or (len(parts) > 1 and not nested)
            or not all(p and _PART.match(p) for p in parts) or len(name) > 512):  # fmt: skip
        raise DataError(f"{what} {name!r} is not a file name inside the database (only "
                        "'/'-separated plain names: no '..', no absolute path, no backslash); "
                        "refused before writing anything; check --url")  # fmt: skip
    return name


def _url_of(base: str, db_dir: str, name: str) -> str:
    return base + urllib.parse.quote(f"{db_dir}/{name}")


def _open(url: str, start: int = 0):
    """An HTTP response from ``start`` (None when the file is not there; 416 as a response)."""
    request = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    try:
        return urllib.request.urlopen(request, timeout=TIMEOUT_S)  # noqa: S310 (http/https only)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        if exc.code == 416:
            return exc
        raise _network(url, f"HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise _network(url, getattr(exc, "reason", None) or exc) from exc


def _network(url: str, cause) -> DataError:
    return DataError(f"{url}: download failed ({cause}); check the network connection or --url, "
                     "then run the same command again: finished files are kept and a "
                     "partial one resumes")  # fmt: skip


def _read_remote(url: str) -> bytes | None:
    response = _open(url)
    if response is None:
        return None
    try:
        with response:
            return response.read()
    except OSError as exc:
        raise _network(url, exc) from exc


def _lines(text: bytes | None, what: str) -> list[str]:
    try:
        return (text or b"").decode("ascii").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{what} is not plain text (ASCII); check --url") from exc


def _files_of(base: str, db_dir: str) -> list[str]:
    """Every file of the database's records, each name checked: headers, signal files and
    annotation files. Nothing is written here; headers are read into memory."""
    from wfdb.io.record import rdheader

    records_text = _read_remote(_url_of(base, db_dir, "RECORDS"))
    if records_text is None:
        raise DataError(f"{db_dir}: no RECORDS file at {base}; check the database name, "
                        "--version and --url")  # fmt: skip
    records = [safe_name(r.strip(), f"{db_dir}: RECORDS names")
               for r in _lines(records_text, f"{db_dir}/RECORDS") if r.strip()]  # fmt: skip
    annotators = [safe_name(line.split()[0], f"{db_dir}: ANNOTATORS names", nested=False)
                  for line in _lines(_read_remote(_url_of(base, db_dir, "ANNOTATORS")),
                                     f"{db_dir}/ANNOTATORS") if line.strip()] or ["atr"]  # fmt: skip
    for a in annotators:
        if not _ANNOTATOR.match(a):
            safe_name("/" + a, f"{db_dir}: ANNOTATORS names")  # refused with the same words
    files = []
    for rec in records:
        files.append(rec + ".hea")
        folder = posixpath.dirname(rec)
        try:
            header = rdheader(posixpath.basename(rec), pn_dir=posixpath.join(db_dir, folder))
        except Exception as exc:  # wfdb raises many kinds on a malformed header
            raise DataError(f"{db_dir}/{rec}.hea: not a readable WFDB header ({exc}); check "
                            "--url") from exc  # fmt: skip
        for f in dict.fromkeys(getattr(header, "file_name", None) or []):
            if f and f != "~":  # "~": a signal without a file
                name = safe_name(f, f"{db_dir}/{rec}.hea names the signal file", nested=False)
                files.append(posixpath.join(folder, name) if folder else name)
        files += [f"{rec}.{a}" for a in annotators]
    return list(dict.fromkeys(files))


def download_databases(dbs: list[str], to: str, url: str = PHYSIONET_FILES,
                       versions: dict[str, str] | None = None,
                       echo: Callable[[str], None] = lambda m: None) -> dict:  # fmt: skip
    """Download (or complete) ``dbs`` into ``to``/<db>; returns per database the files fetched,
    completed, kept and checked."""
    from wfdb.io import download

    from ..progress import Bar

    base = url if url.endswith("/") else url + "/"
    if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
        raise DataError(f"--url {url}: give an http:// or https:// address")
    previous = download.config.db_index_url
    download.set_db_index_url(base)  # wfdb's header reader fetches from here
    summary: dict = {}
    try:
        for db in dbs:
            safe_name(db, "database", nested=False)
            version = (versions or {}).get(db) or VERSIONS.get(db)
            if not version:
                raise DataError(f"{db}: unknown database version; give --version {db}=X.Y.Z")
            safe_name(version, f"--version {db}=", nested=False)
            db_dir = f"{db}/{version}"
            files = _files_of(base, db_dir)  # every name checked before the first write
            sums_text = _read_remote(_url_of(base, db_dir, "SHA256SUMS.txt"))
            sums = {}
            for line in _lines(sums_text, f"{db_dir}/SHA256SUMS.txt"):
                parts = line.split()
                if len(parts) == 2:
                    sums[parts[1].lstrip("*")] = parts[0].lower()
            out = os.path.join(to, db)
            os.makedirs(out, exist_ok=True)
            stats = {"version": version, "files": len(files), "fetched": 0, "completed": 0,
                     "kept": 0, "checked": 0, "refetched": 0,
                     "checksums": "SHA256SUMS.txt" if sums else "none published"}  # fmt: skip
            bar = Bar(len(files), f"  {db}", unit="file")  # on a terminal; else a line per 20
            for i, name in enumerate(files, 1):
                key = _fetch_checked(_url_of(base, db_dir, name), out, name, sums.get(name),
                                     f"{db}/{name}", stats)  # fmt: skip
                stats[key] += 1
                stats["checked"] += name in sums
                bar.update(1)
                if not bar.live and (i % 20 == 0 or i == len(files)):
                    echo(f"  {db}: {i}/{len(files)} files")
            bar.close()
            records = "".join(f"{f[:-4]}\n" for f in files if f.endswith(".hea"))
            from ..fsio import atomic_write_text

            atomic_write_text(os.path.join(out, "RECORDS"), records)  # RECORDS last: complete
            summary[db] = stats
    finally:
        download.set_db_index_url(previous)
    return summary


def _fetch_checked(url: str, out: str, name: str, want: str | None, label: str,
                   stats: dict) -> str:  # fmt: skip
    """One file into ``out/name`` through ``.<name>.part``; "fetched", "completed" or "kept"."""
    final = os.path.join(out, *name.split("/"))
    root = os.path.realpath(out)
    if os.path.commonpath([root, os.path.realpath(final)]) != root:  # a link on the way out
        raise DataError(f"{label}: its place {final} leads outside {out} (a symbolic link); "
                        "remove the link or choose another --to")  # fmt: skip
    folder, base = os.path.split(final)
    os.makedirs(folder, exist_ok=True)
    part = os.path.join(folder, f".{base}.part")
    if os.path.isfile(final) and not os.path.islink(final):
        if (want and _sha256(final) == want) or (not want and _remote_complete(url, final)):
            return "kept"
        os.replace(final, part)  # not whole: continue it as a partial download
    resumed = os.path.isfile(part) and os.path.getsize(part) > 0
    total = _download(url, part, label)
    if want and _sha256(part) != want:
        os.unlink(part)
        stats["refetched"] += 1
        total = _download(url, part, label)
        if _sha256(part) != want:
            os.unlink(part)
            raise DataError(f"{label}: its SHA-256 does not match SHA256SUMS.txt after a fresh "
                            "download; try again later or another --url")  # fmt: skip
    if not want and total is not None and os.path.getsize(part) != total:
        raise DataError(f"{label}: {os.path.getsize(part)} bytes of {total}; run the same "
                        "command again to resume")  # fmt: skip
    os.replace(part, final)
    return "completed" if resumed else "fetched"


def _remote_complete(url: str, path: str) -> bool:
    """Whether the server has nothing beyond ``path``'s size (asked with a Range request)."""
    response = _open(url, os.path.getsize(path))
    if response is None:
        return False
    with response:
        return getattr(response, "code", None) == 416


def _download(url: str, part: str, label: str) -> int | None:
    """Append the rest of ``url`` to ``part`` (from its size; from the start where the server
    ignores the range); the file's full size when the server says it."""
    start = os.path.getsize(part) if os.path.isfile(part) else 0
    response = _open(url, start)
    if response is None:
        raise DataError(f"{label}: not found at {url}; check --url and --version")
    with response:
        code = getattr(response, "code", 200)
        if code == 416:  # nothing beyond what we have
            return start
        if code != 206:
            start = 0  # the whole file came back
        total = _total(response, start)
        try:
            fh = open(part, "ab" if start else "wb")  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise output_error(exc, part) from exc
        with fh:
            while True:
                try:
                    block = response.read(1 << 16)
                except OSError as exc:  # the connection, not the disk
                    raise _network(url, exc) from exc
                if not block:
                    break
                try:
                    fh.write(block)
                except OSError as exc:
                    raise output_error(exc, part) from exc
    return total


def _total(response, start: int) -> int | None:
    rng = response.headers.get("Content-Range") or ""
    if "/" in rng and rng.rsplit("/", 1)[1].isdigit():
        return int(rng.rsplit("/", 1)[1])
    length = response.headers.get("Content-Length")
    return start + int(length) if length and length.isdigit() else None
