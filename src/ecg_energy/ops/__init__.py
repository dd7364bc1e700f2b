"""Operation counting: per-operation MACs (and, in time, precision and bytes) of a model."""
