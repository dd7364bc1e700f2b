"""`ecg-energy download` against a local server in PhysioNet's layout (loopback only, stopped)."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

from ecg_energy.cli import main


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with HTTP Range support (what wfdb's remote file access asks for)."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        rng = self.headers.get("Range")
        if not rng or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        start, _, end = rng.replace("bytes=", "").partition("-")
        start = int(start) if start else 0
        end = min(int(end), size - 1) if end else size - 1
        if start >= size:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.end_headers()
            return None
        fh = open(path, "rb")  # noqa: SIM115 (closed by copyfile's caller)
        fh.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self._remaining = end - start + 1
        return _Limited(fh, self._remaining)


class _Limited:
    def __init__(self, fh, n):
        self.fh, self.n = fh, n

    def read(self, size=-1):
        if self.n <= 0:
            return b""
        data = self.fh.read(self.n if size < 0 else min(size, self.n))
        self.n -= len(data)
        return data

    def close(self):
        self.fh.close()


@pytest.fixture()
def mirror(tmp_path, make_record):
    """A PhysioNet-layout copy of a two-record database ``tinydb`` 1.0.0, served on loopback."""
    root = tmp_path / "www"
    db = root / "files" / "tinydb" / "1.0.0"
    db.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("r1", "r2"):
        make_record(db, name, rng.normal(0, 0.1, 250 * 20), 250, [(0, "+", "(N")])
    (db / "RECORDS").write_text("r1\nr2\n")
    (db / "ANNOTATORS").write_text("atr\treference annotations\n")
    files = sorted(p.name for p in db.iterdir() if p.suffix in (".hea", ".dat", ".atr"))
    (db / "SHA256SUMS.txt").write_text("".join(
        f"{hashlib.sha256((db / f).read_bytes()).hexdigest()} {f}\n" for f in files))  # fmt: skip
    handler = lambda *a, **k: _RangeHandler(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/files/", db, files
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_download_resumes_and_verifies(mirror, tmp_path, capsys):
    url, db, files = mirror
    to = tmp_path / "got"
    argv = ["download", "tinydb", "--version", "tinydb=1.0.0", "--to", str(to), "--url", url]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"tinydb 1.0.0: 6 files in {to}/tinydb (6 fetched, 0 completed, 0 already there; " \
           "6 checked against SHA256SUMS.txt)" in out  # fmt: skip
    for f in files:
        assert (to / "tinydb" / f).read_bytes() == (db / f).read_bytes()
    assert (to / "tinydb" / "RECORDS").read_text() == "r1\nr2\n"
    # an interrupted download: r2.dat cut short, r1.atr missing -> completed and fetched again
    dat = to / "tinydb" / "r2.dat"
    dat.write_bytes(dat.read_bytes()[:1000])
    (to / "tinydb" / "r1.atr").unlink()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "(1 fetched, 1 completed, 4 already there; 6 checked" in out
    assert dat.read_bytes() == (db / "r2.dat").read_bytes()


def test_download_refuses_a_corrupt_file_and_unknown_databases(mirror, tmp_path, capsys):
    url, db, _ = mirror
    # the server's copy no longer matches its published checksum
    (db / "r1.dat").write_bytes(b"\x00" * len((db / "r1.dat").read_bytes()))
    rc = main(["download", "tinydb", "--version", "tinydb=1.0.0", "--to", str(tmp_path / "g"),
               "--url", url])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("error: tinydb/r1.dat: its SHA-256 does not match")
    assert not (tmp_path / "g" / "tinydb" / "r1.dat").exists()
    assert not (tmp_path / "g" / "tinydb" / "RECORDS").exists()  # not a complete database
    rc = main(["download", "nosuchdb", "--to", str(tmp_path / "h"), "--url", url])
    assert rc == 2 and "nosuchdb: unknown database version" in capsys.readouterr().err
    rc = main(["download", "tinydb", "--version", "tinydb=9.9.9", "--to", str(tmp_path / "h"),
               "--url", url])  # fmt: skip
    assert rc == 2 and "no RECORDS file" in capsys.readouterr().err


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize(
    ("file", "text", "bad"),
    [
        ("RECORDS", "r1\n../../evil\n", "'../../evil'"),
        ("RECORDS", "r1\n/tmp/evil\n", "'/tmp/evil'"),
        ("RECORDS", "r1\nsub/../../evil\n", "'sub/../../evil'"),
        ("RECORDS", "r1\n..\\evil\n", "'..\\\\evil'"),
        ("ANNOTATORS", "../../../evil\tx\n", "'../../../evil'"),
        ("r2.hea", None, "r2.hea: not a readable WFDB header"),
    ],
)
def test_download_refuses_names_outside_the_folder(mirror, tmp_path, capsys, file, text, bad):
    """A hostile mirror: a name with '..', an absolute path or a backslash is refused in one line
    before anything is written (the database's folder is not even made)."""
    url, db, _ = mirror
    if text is None:  # a header whose signal file climbs out of the folder
        hea = (db / "r2.hea").read_text().replace("r2.dat", "../../evil.dat")
        (db / "r2.hea").write_text(hea)
    else:
        (db / file).write_text(text)
    to = tmp_path / "got"
    before = _files(tmp_path)
    rc = main(["download", "tinydb", "--version", "tinydb=1.0.0", "--to", str(to), "--url", url])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert bad in err[0] and err[0].endswith("check --url")
    if text is not None:  # (wfdb's header syntax itself refuses a '/' in a signal file name)
        assert err[0].endswith("is not a file name inside the database (only '/'-separated plain "
                               "names: no '..', no absolute path, no backslash); refused before "
                               "writing anything; check --url")  # fmt: skip
    assert _files(tmp_path) == before  # nothing written anywhere, --to included
    assert not (tmp_path / "evil").exists() and not (tmp_path.parent / "evil.dat").exists()


def test_download_keeps_the_database_layout_and_never_moves_in_a_bad_file(mirror, tmp_path):
    """Records in a sub-folder are the database's own layout; a file whose checksum does not
    match never appears under its name (only the hidden partial, which is removed)."""
    url, db, files = mirror
    (db / "sub").mkdir()
    for f in files:
        if f.startswith("r2"):
            (db / f).rename(db / "sub" / f)
    (db / "RECORDS").write_text("r1\nsub/r2\n")
    sums = "".join(f"{hashlib.sha256((db / f).read_bytes()).hexdigest()} {f}\n"
                   for f in ("r1.hea", "r1.dat", "r1.atr", "sub/r2.hea", "sub/r2.dat",
                             "sub/r2.atr"))  # fmt: skip
    (db / "SHA256SUMS.txt").write_text(sums)
    to = tmp_path / "got"
    argv = ["download", "tinydb", "--version", "tinydb=1.0.0", "--to", str(to), "--url", url]
    assert main(argv) == 0
    assert _files(to / "tinydb") == ["RECORDS", "r1.atr", "r1.dat", "r1.hea", "sub",
                                     "sub/r2.atr", "sub/r2.dat", "sub/r2.hea"]  # fmt: skip
    assert (to / "tinydb" / "RECORDS").read_text() == "r1\nsub/r2\n"
    (db / "sub" / "r2.dat").write_bytes(b"\x01" * 100)  # the mirror's copy goes bad
    (to / "tinydb" / "sub" / "r2.dat").unlink()
    assert main(argv) == 2
    assert _files(to / "tinydb" / "sub") == ["r2.atr", "r2.hea"]


def test_download_network_failure_is_one_line(tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc = main(["download", "tinydb", "--version", "tinydb=1.0.0", "--to", str(tmp_path / "g"),
               "--url", f"http://127.0.0.1:{port}/files/"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert err[0].startswith(f"error: http://127.0.0.1:{port}/files/tinydb/1.0.0/RECORDS: "
                             "download failed (")  # fmt: skip
    assert "check the network connection or --url" in err[0]
    assert not (tmp_path / "g").exists()
