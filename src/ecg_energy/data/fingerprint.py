"""What the run's data is made of, as keys: the sources' files (a changed file is new data), the
examples and their split. A trained model's key depends on these, so new data retrains it."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from .dataset import Dataset, Split
from .sources import parse_source


def data_key(ds: Dataset, split) -> str:
    """What a trained model depends on in the data: source, options, classes, split records."""
    return json.dumps(
        [ds.provenance, ds.class_counts(), split.records, split.method], sort_keys=True, default=str
    )


def dataset_digest(ds: Dataset, split: Split) -> str:
    """Content digest of the examples, labels, records and split."""
    h = hashlib.sha256()
    for arr in (ds.X, ds.y, ds.groups.astype(str), ds.rhythm.astype(str)):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(data_key(ds, split).encode())
    return h.hexdigest()[:20]


def source_fingerprint(text: str) -> list:
    """What a user's data source is made of (file names, sizes and times): a changed file is new
    data. The synthetic database is fingerprinted by its configuration instead."""
    src = parse_source(text)
    if src.kind == "synth":
        return [text]
    out: list = [text]
    for path in src.paths:
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                st = os.stat(os.path.join(path, name))
                out.append([name, st.st_size, st.st_mtime_ns])
        elif os.path.exists(path):
            st = os.stat(path)
            out.append([path, st.st_size, st.st_mtime_ns])
    return out
