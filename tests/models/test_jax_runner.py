"""The Keras runner under the JAX backend gives the TensorFlow runner's logits (skipped where JAX
is not installed; it is not a dependency — GPU machines that have it use it)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = """
import sys
import numpy as np
import keras
from ecg_energy.models.runners import KerasRunner
assert keras.backend.backend() == "jax"
model = keras.saving.load_model(sys.argv[1], safe_mode=True, compile=False)
x = np.load(sys.argv[2])
np.save(sys.argv[3], KerasRunner(model)(x))
"""


def test_jax_backend_matches_tensorflow(tmp_path):
    pytest.importorskip("jax")
    from ecg_energy.models.architectures import build
    from ecg_energy.models.runners import KerasRunner

    model = build("student", 1000, 5, seed=3)
    model.save(tmp_path / "m.keras")
    x = np.random.default_rng(0).standard_normal((4, 1000, 1)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "m.keras"), str(tmp_path / "x.npy"),
                    str(tmp_path / "y.npy")], check=True, env=env, capture_output=True)  # fmt: skip
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), KerasRunner(model)(x), atol=1e-4)
