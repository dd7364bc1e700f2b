"""The report's FLOP convention, reproduced: TensorFlow's own (TF1) profiler on the frozen graph of
one sample. ``keras-flops``, the report's helper, no longer runs on Keras 3; the profiler itself
still does on a frozen concrete function (TensorFlow backend). A cross-check only: it counts
2 × MACs plus bias, batch-norm, pooling and softmax work, with its own rules (ANCHORS §2).
"""

from __future__ import annotations


def profiler_flops(model) -> int | None:
    """Float operations of one forward pass as the TF1 profiler counts them; None without the
    TensorFlow backend."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    from ..quiet import silenced

    # one spec per input: a model with several inputs takes them as a list
    specs = [tf.TensorSpec([1, *t.shape[1:]], t.dtype or tf.float32) for t in model.inputs]
    arg = specs[0] if len(specs) == 1 else specs
    fn = tf.function(lambda x: model(x, training=False)).get_concrete_function(arg)
    frozen = convert_variables_to_constants_v2(fn)
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    with silenced():
        info = tf.compat.v1.profiler.profile(graph=frozen.graph, options=opts)
    return int(info.total_float_ops)
