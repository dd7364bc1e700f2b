"""Download PhysioNet databases as users have them, with wfdb's PhysioNet access.

``ecg-energy download vfdb cudb mitdb --to DIR`` fetches each database's records (its RECORDS
file), their headers, signal files and annotation files (its ANNOTATORS file, else ``atr``) into
``DIR/<db>``, through wfdb's download functions at wfdb's configurable index URL
(``wfdb.io.download.config.db_index_url``; ``--url`` sets it, e.g. to a mirror). A file already
there at full size is kept, a shorter one (an interrupted download) is completed from where it
stopped, and every file is checked against the database's published ``SHA256SUMS.txt`` where
there is one: a mismatch is fetched again once, then refused.

wfdb's own ``dl_database`` asks physionet.org for the latest version even when the index URL
points elsewhere, so the version is ours to give (the PhysioNet versions below, or ``--version``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import posixpath
from collections.abc import Callable

from ..errors import DataError

PHYSIONET_FILES = "https://physionet.org/files/"
VERSIONS = {"mitdb": "1.0.0", "vfdb": "1.0.0", "cudb": "1.0.0", "nsrdb": "1.0.0",
            "svdb": "1.0.0", "afdb": "1.0.0", "incartdb": "1.0.0"}  # fmt: skip


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_remote(url: str) -> bytes | None:
    from wfdb.io import _url

    try:
        with _url.openurl(url, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def _files_of(db_dir: str) -> list[str]:
    """Every file of the database's records: headers, signal files, annotation files."""
    from wfdb.io import download
    from wfdb.io.record import rdheader

    try:
        records = download.get_record_list(db_dir)
    except ValueError as exc:
        raise DataError(f"{db_dir}: no RECORDS file at {download.config.db_index_url}; check the "
                        "database name, --version and --url") from exc  # fmt: skip
    annotators = download.get_annotators(db_dir, "all") or ["atr"]
    files = []
    for rec in records:
        files.append(rec + ".hea")
        header = rdheader(rec, pn_dir=db_dir)
        files += [f for f in dict.fromkeys(getattr(header, "file_name", None) or [])]
        for a in annotators:
            files.append(f"{rec}.{a}")
    return files


def download_databases(dbs: list[str], to: str, url: str = PHYSIONET_FILES,
                       versions: dict[str, str] | None = None,
                       echo: Callable[[str], None] = lambda m: None) -> dict:  # fmt: skip
    """Download (or complete) ``dbs`` into ``to``/<db>; returns per database the files fetched,
    completed, kept and checked."""
    from wfdb.io import download

    from ..progress import Bar

    previous = download.config.db_index_url
    download.set_db_index_url(url if url.endswith("/") else url + "/")
    summary: dict = {}
    try:
        for db in dbs:
            version = (versions or {}).get(db) or VERSIONS.get(db)
            if not version:
                raise DataError(f"{db}: unknown database version; give --version {db}=X.Y.Z")
            db_dir = f"{db}/{version}"
            out = os.path.join(to, db)
            os.makedirs(out, exist_ok=True)
            files = _files_of(db_dir)
            sums_text = _read_remote(posixpath.join(download.config.db_index_url, db_dir,
                                                    "SHA256SUMS.txt"))  # fmt: skip
            sums = {}
            if sums_text:
                for line in sums_text.decode("utf-8", "replace").splitlines():
                    parts = line.split()
                    if len(parts) == 2:
                        sums[parts[1].lstrip("*")] = parts[0].lower()
            stats = {"version": version, "files": len(files), "fetched": 0, "completed": 0,
                     "kept": 0, "checked": 0, "refetched": 0,
                     "checksums": "SHA256SUMS.txt" if sums else "none published"}  # fmt: skip
            bar = Bar(len(files), f"  {db}", unit="file")  # on a terminal; else a line per 20
            for i, name in enumerate(files, 1):
                local = os.path.join(out, name)
                before = os.path.getsize(local) if os.path.isfile(local) else None
                _fetch(db_dir, name, out)
                after = os.path.getsize(local)
                key = "fetched" if before is None else ("completed" if before < after else "kept")
                stats[key] += 1
                want = sums.get(name)
                if want:
                    if _sha256(local) != want:
                        os.unlink(local)
                        _fetch(db_dir, name, out)
                        stats["refetched"] += 1
                        if _sha256(local) != want:
                            os.unlink(local)
                            raise DataError(f"{db}/{name}: its SHA-256 does not match "
                                            "SHA256SUMS.txt after a fresh download; try again "
                                            "later or another --url")  # fmt: skip
                    stats["checked"] += 1
                bar.update(1)
                if not bar.live and (i % 20 == 0 or i == len(files)):
                    echo(f"  {db}: {i}/{len(files)} files")
            bar.close()
            with open(os.path.join(out, "RECORDS.tmp"), "w") as fh:  # RECORDS last: complete
                fh.write("".join(f"{f[:-4]}\n" for f in files if f.endswith(".hea")))
            os.replace(os.path.join(out, "RECORDS.tmp"), os.path.join(out, "RECORDS"))
            summary[db] = stats
    finally:
        download.set_db_index_url(previous)
    return summary


def _fetch(db_dir: str, name: str, out: str) -> None:
    """wfdb's file download: new files whole, a shorter local file completed from its end."""
    from wfdb.io import download

    subdir, base = posixpath.split(name)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # wfdb prints its progress
            download.dl_pn_file((base, subdir, db_dir, out, True, False))
    except FileNotFoundError as exc:
        raise DataError(f"{db_dir}/{name}: not found at {download.config.db_index_url}") from exc
    except OSError as exc:
        raise DataError(f"{db_dir}/{name}: download failed ({exc}); run the same command again "
                        "to resume") from exc  # fmt: skip
