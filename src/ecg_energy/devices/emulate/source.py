"""The TFLM source tree the emulated build is made from, and the cache it is built in.

A source is a folder of archives in the layout of ``shared/vendor`` (``tflite-micro-*.tar.gz``,
``CMSIS-NN-*``, ``CMSIS_6-*``, ``flatbuffers-*``, ``gemmlowp-*``, ``ruy-*``, ``kissfft-*``: ``git
archive``s of the commits TFLM's Makefile pins), or a URL of such a folder; by default the
upstream archives of those pinned commits. It is given by the ``device.tflm_source`` setting or
the ``ECG_ENERGY_TFLM_SOURCE`` environment variable. The tree is unpacked once per source digest
(the SHA-256 of the archives) into the cache, in the places TFLM's Makefile expects them
(tensorflow/lite/micro/tools/make/downloads/...), with TFLM's own patches applied.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request

from ...errors import ConfigError
from ...fsio import sha256_file as _sha256

ENV_SOURCE = "ECG_ENERGY_TFLM_SOURCE"
ENV_CACHE = "ECG_ENERGY_EMULATE_CACHE"
# (archive prefix, folder under downloads/, upstream archive URL of TFLM 90b983c's pin)
PARTS = (
    ("tflite-micro-", None,
     "https://github.com/tensorflow/tflite-micro/archive/90b983c2b3f1480642e040bbd2ddb37b998f3424.tar.gz"),
    ("CMSIS-NN-", "cmsis_nn",
     "https://github.com/ARM-software/CMSIS-NN/archive/4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae.tar.gz"),
    ("CMSIS_6-", "cmsis",
     "https://github.com/ARM-software/CMSIS_6/archive/5782d6f8057906d360f4b95ec08a2354afe5c9b9.tar.gz"),
    ("flatbuffers-", "flatbuffers", "https://github.com/google/flatbuffers/archive/v25.9.23.tar.gz"),
    ("gemmlowp-", "gemmlowp",
     "https://github.com/google/gemmlowp/archive/719139ce755a0f31cbf1c37f7f98adcc7fc9f425.tar.gz"),
    ("ruy-", "ruy", "https://github.com/google/ruy/archive/d37128311b445e758136b8602d1bbd2a755e115d.tar.gz"),
    ("kissfft-", "kissfft", "https://github.com/mborgerding/kissfft/archive/v130.tar.gz"),
)  # fmt: skip
PATCHES = {"flatbuffers": "tensorflow/lite/micro/tools/make/flatbuffers.patch",
           "kissfft": "third_party/kissfft/kissfft.patch"}  # fmt: skip
DOWNLOADS = "tensorflow/lite/micro/tools/make/downloads"


def cache_root(setting: str | None = None) -> str:
    """The emulator's cache folder: ``setting``, else $ECG_ENERGY_EMULATE_CACHE, else
    $XDG_CACHE_HOME/ecg-energy/emulate (~/.cache/...)."""
    root = setting or os.environ.get(ENV_CACHE)
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "ecg-energy", "emulate")
    return os.path.abspath(root)


def source_spec(setting: str | None = None) -> str:
    """The TFLM source: the setting, else $ECG_ENERGY_TFLM_SOURCE, else ``upstream``."""
    return setting or os.environ.get(ENV_SOURCE) or "upstream"


def find_archives(folder: str) -> dict[str, str]:
    """{prefix: archive path} for each part in ``folder``; a missing part raises ConfigError."""
    if not os.path.isdir(folder):
        raise ConfigError(f"{folder}: no such TFLM source folder; set {ENV_SOURCE} to a folder of "
                          "the TFLM archives (tflite-micro-*.tar.gz, CMSIS-NN-*.tar.gz, ...) or a "
                          "URL")  # fmt: skip
    names = sorted(os.listdir(folder))
    out, missing = {}, []
    for prefix, _, _ in PARTS:
        hits = [n for n in names if n.startswith(prefix) and n.endswith(".tar.gz")]
        if not hits:
            missing.append(prefix + "*.tar.gz")
        else:
            out[prefix] = os.path.join(folder, hits[-1])
    if missing:
        raise ConfigError(f"{folder}: the TFLM source lacks {', '.join(missing)}; set "
                          f"{ENV_SOURCE} to a folder holding every archive")  # fmt: skip
    return out


SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.tar\.gz$")


def _download(url: str, path: str) -> None:
    try:
        urllib.request.urlretrieve(url, path)  # noqa: S310 (the user's own source URL)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot download {url} ({exc}); set {ENV_SOURCE} to a folder of the "
                          "TFLM archives") from exc  # fmt: skip


def parse_sums(text: str) -> dict[str, str]:
    """{archive name: sha256} of a SHA256SUMS file; names that are not plain archive file names
    are refused.

    >>> parse_sums("ab12  tflite-micro-1.tar.gz\\n")
    {'tflite-micro-1.tar.gz': 'ab12'}"""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        digest, name = parts[0].lower(), parts[1].lstrip("*")
        if not SAFE_NAME.match(name):
            raise ConfigError(f"SHA256SUMS names {name!r}, not an archive file name")
        out[name] = digest
    return out


def _fetch(spec: str, dest: str) -> dict[str, str]:
    """Download the archives of ``spec`` into ``dest``: ``upstream`` (GitHub's archives of the
    pinned commits), or the URL of a folder in the vendor layout, whose SHA256SUMS names the
    archives and their digests (each download is checked against it)."""
    sums: dict[str, str] = {}
    if spec == "upstream":
        urls = {prefix: (url, prefix + os.path.basename(url)) for prefix, _, url in PARTS}
    else:
        base = spec.rstrip("/") + "/"
        sums_path = os.path.join(dest, "SHA256SUMS")
        _download(base + "SHA256SUMS", sums_path)
        with open(sums_path, encoding="utf-8", errors="replace") as fh:
            sums = parse_sums(fh.read())
        urls = {}
        for prefix, _, _ in PARTS:
            names = sorted(n for n in sums if n.startswith(prefix))
            if not names:
                raise ConfigError(f"{base}SHA256SUMS lists no {prefix}*.tar.gz; the TFLM source "
                                  "folder needs every archive")  # fmt: skip
            urls[prefix] = (base + names[-1], names[-1])
    out = {}
    for prefix, (url, name) in urls.items():
        path = os.path.join(dest, name)
        _download(url, path)
        if name in sums and _sha256(path) != sums[name]:
            raise ConfigError(f"{url}: its SHA-256 is not the one SHA256SUMS lists; the download "
                              "is damaged or the folder changed")  # fmt: skip
        out[prefix] = path
    return out


def source_digest(archives: dict[str, str]) -> str:
    """A short digest of the archives' contents (the cache key of a source tree)."""
    h = hashlib.sha256()
    for prefix, _, _ in PARTS:
        h.update(f"{prefix}{_sha256(archives[prefix])}\n".encode())
    return h.hexdigest()[:16]


def _extract(archive: str, dest: str) -> None:
    """Unpack a ``git archive`` tarball's single top folder into ``dest``."""
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        top = members[0].name.split("/")[0]
        for m in members:
            parts = m.name.split("/", 1)
            if parts[0] != top or len(parts) < 2 or not parts[1]:
                continue
            m.name = parts[1]
            tar.extract(m, dest, filter="data")


def prepare_tree(spec: str | None = None, cache: str | None = None) -> tuple[str, str]:
    """(tree folder, digest): the TFLM tree of the source, unpacked and patched in the cache."""
    spec = source_spec(spec)
    root = cache_root(cache)
    os.makedirs(root, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix="fetch-") as tmp:
        if spec == "upstream" or "://" in spec:
            if spec.startswith("file://"):
                archives = find_archives(spec[len("file://") :])
            else:
                archives = _fetch(spec, tmp)
        else:
            archives = find_archives(spec)
        digest = source_digest(archives)
        tree = os.path.join(root, f"src-{digest}")
        if os.path.isfile(os.path.join(tree, ".complete")):
            return tree, digest
        work = tempfile.mkdtemp(dir=root, prefix=f"src-{digest}.")
        for prefix, folder, _ in PARTS:
            _extract(archives[prefix], work if folder is None else
                     os.path.join(work, DOWNLOADS, folder))  # fmt: skip
        for folder, patch in PATCHES.items():
            _patch(os.path.join(work, DOWNLOADS, folder), os.path.join(work, patch))
        with open(os.path.join(work, ".complete"), "w") as fh:
            fh.write(spec + "\n")
        if os.path.isdir(tree):
            shutil.rmtree(tree)
        os.replace(work, tree)
    return tree, digest


def _patch(folder: str, patch: str) -> None:
    if shutil.which("patch") is None:
        raise ConfigError("the emulated build needs `patch` (apt-get install patch)")
    with open(patch, "rb") as fh:
        proc = subprocess.run(["patch", "-p1", "-l", "-s", "-d", folder], stdin=fh,
                              capture_output=True, text=True)  # fmt: skip
    if proc.returncode:
        raise ConfigError(f"TFLM's {os.path.basename(patch)} does not apply to {folder}: "
                          f"{(proc.stdout + proc.stderr).strip().splitlines()[-1:]}")  # fmt: skip
