"""TOML in and out, once: reading with one-line errors (tomllib, or tomli on Python 3.10) and
writing the values our configuration files and generated sections hold."""

from __future__ import annotations

import json
from typing import Any

from .errors import ConfigError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def loads(text: str, origin: str) -> dict:
    """Parse TOML; a syntax error is a ConfigError naming ``origin``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML ({exc}); fix the file") from exc


def value(v: Any) -> str:
    """One TOML value: booleans, strings, numbers, arrays and inline tables.

    >>> value([1, "a", True, {"k": 0.5}])
    '[1, "a", true, {k = 0.5}]'"""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
    return str(v)
