"""The fuzzers' common parts: each reader as a function of the input's bytes, run in a sandbox
folder with a time bound; mutation strategies over a valid seed input; the kept corpus.

A reader passes an input when it returns a result or raises one :class:`EcgEnergyError` whose
message is one line; any other exception, a run past ``LIMIT_S`` seconds, or a file written
anywhere but the sandbox's ``out`` folder fails the test, and Hypothesis shrinks the input.
Inputs that once failed are kept in ``corpus/<reader>/`` and replayed by ``test_corpus.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ecg_energy.errors import EcgEnergyError

CORPUS = Path(__file__).parent / "corpus"
LIMIT_S = 45.0  # one input, one reader: a hang past this fails (a loaded machine included)
COUNTS: Counter = Counter()  # inputs tried per reader (printed at the end of the session)
OUTCOMES: Counter = Counter()  # (reader, "result" | "refused")

# every fuzz test: reproducible (derandomized) in `make test`; ECG_FUZZ_SCALE=N tries N times as
# many inputs, ECG_FUZZ_RANDOM=1 new ones each run
SCALE = float(os.environ.get("ECG_FUZZ_SCALE", "1"))


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, database=None,
                    derandomize=os.environ.get("ECG_FUZZ_RANDOM") != "1",
                    suppress_health_check=list(HealthCheck))  # fmt: skip


class Hang(BaseException):
    """Raised in a reader that ran past its bound (a BaseException: no reader may swallow it)."""


@contextlib.contextmanager
def bounded(seconds: float):
    def alarm(signum, frame):
        raise Hang(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _listing(root: str) -> set[str]:
    out = set()
    for folder, _, files in os.walk(root):
        out.update(os.path.relpath(os.path.join(folder, f), root) for f in files)
    return out


def exercise(reader: str, install: Callable[[Path, bytes], tuple], run: Callable, data: bytes):
    """``install(sandbox, data)`` -> args; ``run(*args)`` must return or raise one
    EcgEnergyError line, within LIMIT_S, writing nothing outside ``sandbox/out``."""
    COUNTS[reader] += 1
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        sandbox = Path(tmp) / "sandbox"
        sandbox.mkdir()
        args = install(sandbox, data)
        before = _listing(tmp)
        cwd = os.getcwd()
        os.chdir(sandbox)  # a relative write would land here, and be seen
        try:
            with bounded(LIMIT_S):
                run(*args)
            OUTCOMES[(reader, "result")] += 1
        except EcgEnergyError as exc:
            message = str(exc)
            assert message.strip() and "\n" not in message.strip(), f"not one line: {message!r}"
            OUTCOMES[(reader, "refused")] += 1
        finally:
            os.chdir(cwd)
        written = {p for p in _listing(tmp) - before if not p.startswith("sandbox/out/")}
        assert not written, f"wrote outside its output folder: {sorted(written)}"


# mutations: byte-level (flip, set, insert, delete, truncate, duplicate) and, for text, token-level
# (a number replaced by an extreme or malformed one, a line dropped or repeated)
INTERESTING_BYTES = (0x00, 0xFF, 0x7F, 0x80, 0x0A, 0x20, 0x2D, 0x2E, 0x30, 0x39, 0x22, 0x5B)
INTERESTING_TOKENS = ("0", "-1", "1e308", "-1e308", "nan", "inf", "-inf", "99999999999999999999",
                      "0.0", "", "1e-320", "-0", "2147483648", "x", '"', "[", "{", "=", "\\",
                      "../", "\u00e9", "\ud7ff")  # fmt: skip
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


@st.composite
def mutated(draw, base: bytes, max_ops: int = 6, text: bool = True) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, max_ops))):
        ops = ["flip", "set", "insert", "delete", "truncate", "dup"]
        if text:
            ops += ["number", "number", "line"]
        op = draw(st.sampled_from(ops))
        n = len(data)
        if n == 0 or op == "insert":
            i = draw(st.integers(0, n))
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "truncate":
            del data[draw(st.integers(0, n)) :]
        elif op == "number":
            spans = [m.span() for m in _NUMBER.finditer(bytes(data))]
            if spans:
                a, b = draw(st.sampled_from(spans))
                data[a:b] = draw(st.sampled_from(INTERESTING_TOKENS)).encode()
        elif op == "line":
            lines = bytes(data).split(b"\n")
            k = draw(st.integers(0, len(lines) - 1))
            if draw(st.booleans()):
                del lines[k]
            else:
                lines.insert(k, lines[k])
            data = bytearray(b"\n".join(lines))
        else:
            i = draw(st.integers(0, n - 1))
            if op == "flip":
                data[i] ^= 1 << draw(st.integers(0, 7))
            elif op == "set":
                data[i] = draw(st.sampled_from(INTERESTING_BYTES))
            elif op == "delete":
                del data[i : i + draw(st.integers(1, 16))]
            else:  # dup
                j = draw(st.integers(i, min(n, i + 64)))
                data[i:i] = data[i:j]
    return bytes(data)


def inputs(base: bytes, text: bool = True) -> st.SearchStrategy[bytes]:
    """Mostly mutations of a valid input; sometimes random bytes or text."""
    return st.one_of(
        mutated(base, text=text),
        mutated(base, text=text),
        mutated(base, text=text),
        st.binary(max_size=256),
        st.text(max_size=256).map(lambda s: s.encode("utf-8", "surrogatepass")),
    )


def corpus(reader: str) -> list[Path]:
    folder = CORPUS / reader
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
