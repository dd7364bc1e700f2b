"""Pure per-operation counts from shapes (fvcore-style: one handler per op kind).

A multiply-accumulate (MAC) is one multiplication and one addition; "FLOPs" in the report this
project generalises are 2 × MACs (the TF profiler's convention, without bias/BN/pool extras).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpCount:
    """Counts of one operation (one layer)."""

    name: str
    kind: str
    macs: int
    params: int
    output_shape: tuple[int, ...]


def conv1d_macs(out_len: int, kernel: int, in_ch: int, out_ch: int, groups: int = 1) -> int:
    """out_len × kernel × (in_ch / groups) × out_ch. E.g. 1000 × 7 × 1 × 32 = 224,000."""
    return out_len * kernel * (in_ch // groups) * out_ch


def depthwise_conv1d_macs(out_len: int, kernel: int, channels: int, multiplier: int = 1) -> int:
    """out_len × kernel × channels × depth multiplier."""
    return out_len * kernel * channels * multiplier


def dense_macs(in_features: int, out_features: int, rows: int = 1) -> int:
    """rows × in × out."""
    return rows * in_features * out_features


def flops_from_macs(macs: int) -> int:
    return 2 * macs
