"""The tool's version: one place, read by the package metadata (pyproject's dynamic version), the
run folders and every content key."""

__version__ = "0.1.0"
