"""The `ecg-energy` command line. Commands parse options, call one library function, write files.

Every known error becomes one line on stderr naming the thing and the fix, with exit code 2: the
project's own errors, and what the user's machine does to it (a full disk, a permission, a
read-only folder: :func:`errors.output_error`; a library that fails to import: a broken install).
Anything else is a bug, reported in one line as "unexpected" (exit 1); ``--verbose`` shows the
traceback.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer
from typer.exceptions import TyperException

from ..errors import EcgEnergyError, InstallError, is_actionable_os_error, output_error
from .common import _echo, app

# the commands register themselves on the app when imported; --help lists them in this order
# isort: off
from . import data_cmds, run_cmd, model_cmds, energy_cmds, device_cmds  # noqa: F401
from . import sweep_cmd  # noqa: F401
# isort: on

__all__ = ["app", "main"]

NEEDS_TENSORFLOW = frozenset({"run", "train", "evaluate", "count", "estimate", "measure"})
# commands that always train or load a Keras model (the others take .tflite and .onnx files too)
ALWAYS_TENSORFLOW = frozenset({"run", "train"})


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn failures into one line and an exit code."""
    import click

    args = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in args or "-v" in args
    command = next((a for a in args if not a.startswith("-")), "")
    if command in ALWAYS_TENSORFLOW and not {"--help", "--print-config"} & set(args):
        import importlib.util

        if importlib.util.find_spec("keras") is None:  # fail before any data is made
            _echo(f"error: {install_hint('keras')}")
            return 2
    try:
        if not verbose:  # TensorFlow's C++ start-up chatter, before it is first imported
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            command = next((a for a in args if not a.startswith("-")), "")
            if command in NEEDS_TENSORFLOW and "keras" not in sys.modules:
                from ..quiet import silenced

                with silenced():  # absl and oneDNN notices ignore TF_CPP_MIN_LOG_LEVEL
                    try:
                        import keras  # noqa: F401
                    except ModuleNotFoundError as exc:
                        if exc.name != "keras":  # a part of TensorFlow missing: broken
                            raise broken_install("keras", exc) from exc
                        # the light install: .tflite and .onnx files need no Keras
                    except Exception as exc:  # TensorFlow's import fails in many ways
                        raise broken_install("keras", exc) from exc
        result = app(args=args, prog_name="ecg-energy", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except (click.exceptions.Exit, typer.Exit) as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except (click.exceptions.Abort, typer.Abort, KeyboardInterrupt):
        _echo("interrupted: finished outputs were kept")
        return 130
    except (click.ClickException, TyperException) as exc:  # a usage error: usage line and a hint
        if verbose:
            traceback.print_exc()
        return usage_error(exc)
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        hint = install_hint(exc.name or "") if isinstance(exc, ModuleNotFoundError) else None
        if hint is not None:  # an extra that is not installed
            _echo(f"error: {hint}")
            return 2
        known = explain(exc)
        if known is not None:
            _echo(f"error: {known}")
            return known.exit_code
        # a bug: still one line unless --verbose
        _echo(f"error: unexpected {type(exc).__name__}: {exc} (run with --verbose for details)")
        return 1


def install_hint(module: str) -> str | None:
    """The one line for a feature whose optional dependency is not installed, or None when the
    missing module is not one of the package's extras (a bug, reported as such)."""
    if module.split(".")[0] in ("tensorflow", "keras"):
        return (
            "this needs TensorFlow and Keras (Keras models, training, distillation), which are "
            "not installed: pip install 'ecg-energy[tensorflow]' (or 'ecg-energy[tensorflow-cpu]' "
            "for the CPU-only build); .tflite and .onnx files need neither"
        )
    return None


# the libraries a command imports when it needs them, and the package that provides each
PACKAGES = {"keras": "keras==3.15.1 tensorflow-cpu==2.21.0", "tensorflow": "tensorflow-cpu==2.21.0",
            "ai_edge_litert": "ai-edge-litert==2.3.0", "onnx": "onnx", "onnxruntime": "onnxruntime",
            "wfdb": "wfdb==4.3.1", "codecarbon": "codecarbon==3.3.2", "neurokit2": "neurokit2",
            "ray": "'ray[tune]'", "optuna": "optuna", "torch": "torch==2.13.0",
            "matplotlib": "matplotlib", "numpy": "numpy", "scipy": "scipy", "h5py": "h5py",
            "tflite_micro": "tflite-micro", "psutil": "psutil"}  # fmt: skip


def broken_install(module: str, exc: BaseException) -> InstallError:
    """A library that fails to import, as the install to repair."""
    top = module.split(".")[0]
    package = PACKAGES.get(top, top)
    cause = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return InstallError(f"{top} failed to import ({type(exc).__name__}: {cause}); the install "
                        f"is broken or incomplete: reinstall it with 'pip install "
                        f"--force-reinstall {package}' in this environment")  # fmt: skip


def explain(exc: BaseException) -> EcgEnergyError | None:
    """The one-line error a user can act on, for an exception that is not a bug (None: a bug)."""
    if isinstance(exc, EcgEnergyError):
        return exc
    if is_actionable_os_error(exc):
        return output_error(exc)
    if isinstance(exc, ImportError):
        name = getattr(exc, "name", None) or ""
        if name.split(".")[0] in PACKAGES:
            return broken_install(name, exc)
    if isinstance(exc, MemoryError):
        return InstallError("out of memory (MemoryError); close other programs, or use fewer "
                            "records, a smaller --batch or fewer --threads")  # fmt: skip
    return None


def nearest(word: str, choices: list[str]) -> str | None:
    """The closest of ``choices`` to a mistyped ``word`` (``devics`` -> ``devices``), if any is
    close enough to be what was meant."""
    import difflib

    near = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return near[0] if near else None


def usage_error(exc) -> int:
    """The command's usage line, then the error in one line with the nearest command, if the
    command was not found; exit code 2 (as click's own usage errors)."""
    import re

    ctx = getattr(exc, "ctx", None)
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    if ctx is not None:
        _echo(ctx.get_usage())
        found = re.match(r"No such command '(.+?)'", message)
        if found and "Did you mean" not in message:
            names = list(getattr(ctx.command, "commands", {}) or {})
            hint = nearest(found.group(1), names)
            message = message.rstrip(".") + (f". Did you mean '{hint}'?" if hint else ".")
        message += f" (see '{ctx.command_path} --help')"
    _echo(f"error: {message}")
    return int(getattr(exc, "exit_code", 2) or 2)


if __name__ == "__main__":
    sys.exit(main())
