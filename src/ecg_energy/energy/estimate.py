"""Datapath energy from operation counts: arithmetic by precision plus memory traffic, as a range.

This is the energy of the arithmetic and the data movement a model needs, priced with a table
(ANCHORS §3): it is not device energy. A CPU adds ~70 pJ of instruction overhead per operation at
45 nm, and static power × time dominates small models; measurement covers those.

Memory: weights are on-chip when they fit the buffer (default 256 KiB, a microcontroller's SRAM),
activations when their peak fits beside them; otherwise off-chip (DRAM).
- low: every tensor moved once (weights read once; each activation written once and read once);
- high: no on-chip reuse (every MAC fetches its weight and its input from where they live).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ops.counts import ModelCounts, OpCount
from .tables import EnergyTable

PJ = 1e-12  # joules per picojoule
DEFAULT_BUFFER_BYTES = 256 * 1024


@dataclass(frozen=True)
class LayerEnergy:
    name: str
    op: str
    precision: str
    mac_j: float
    other_j: float
    requant_j: float
    memory_low_j: float
    memory_high_j: float

    @property
    def compute_j(self) -> float:
        return self.mac_j + self.other_j + self.requant_j


@dataclass(frozen=True)
class EnergyEstimate:
    """Estimated datapath energy of one inference (J), with where it came from."""

    table: str
    source: str
    low_j: float
    high_j: float
    mac_j: float
    other_j: float
    requant_j: float
    memory_low_j: float
    memory_high_j: float
    weights_on_chip: bool | None
    activations_on_chip: bool | None
    buffer_bytes: int
    layers: tuple[LayerEnergy, ...]
    kind: str = "datapath estimate (arithmetic + data movement), not device energy"
    measured: bool = False

    @property
    def compute_j(self) -> float:
        return self.mac_j + self.other_j + self.requant_j

    @property
    def method(self) -> str:
        return f"table:{self.table}"

    def as_dict(self, layers: bool = True) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "layers"}
        out.update(method=self.method, compute_j=self.compute_j)
        if layers:
            out["layers"] = [{**ly.__dict__, "compute_j": ly.compute_j} for ly in self.layers]
        return out


def flat_energy_j(flops: float, pj_per_flop: float) -> float:
    """The report's method: FLOPs × a flat price. 23,038,511 × 0.45 pJ = 1.0367e-5 J."""
    return flops * pj_per_flop * PJ


def _layer(
    op: OpCount, t: EnergyTable, e_w: tuple[float, float], e_a: tuple[float, float]
) -> LayerEnergy:
    mac_j = op.macs * t.mac(op.precision) * PJ if op.macs else 0.0
    other_j = sum(n * t.op(kind, op.precision) for kind, n in op.other.items()) * PJ
    requant_j = op.requant * t.requant_pj * PJ
    weights = op.weight_bytes + op.bias_bytes
    low = (weights * e_w[0] + (op.input_bytes + op.output_bytes) * e_a[0]) * PJ
    if op.macs:
        per_mac = op.weight_element_bytes * e_w[1] + op.activation_element_bytes * e_a[1]
        high = (op.macs * per_mac + op.output_bytes * e_a[1] + op.bias_bytes * e_w[1]) * PJ
    else:
        high = (weights * e_w[1] + (op.input_bytes + op.output_bytes) * e_a[1]) * PJ
    return LayerEnergy(op.name, op.op, op.precision, mac_j, other_j, requant_j, low, high)


def estimate(
    counts: ModelCounts,
    table: EnergyTable,
    buffer_bytes: int = DEFAULT_BUFFER_BYTES,
    flops: float | None = None,
) -> EnergyEstimate:
    """Price ``counts`` with ``table``. A flat table prices ``flops`` (default 2 × MACs) only."""
    if table.flat:
        f = flops if flops is not None else 2 * counts.macs
        j = flat_energy_j(f, table.flat_pj_per_flop)
        return EnergyEstimate(table.name, table.source, j, j, j, 0.0, 0.0, 0.0, 0.0, None, None,
                              buffer_bytes, ())  # fmt: skip
    weights_fit = counts.weight_bytes <= buffer_bytes
    room = buffer_bytes - (counts.weight_bytes if weights_fit else 0)
    acts_fit = counts.peak_activation_bytes <= room
    sram = table.sram(buffer_bytes)
    e_w = (sram, sram) if weights_fit else table.dram_pj_per_byte
    e_a = (sram, sram) if acts_fit else table.dram_pj_per_byte
    layers = tuple(_layer(op, table, e_w, e_a) for op in counts.ops if op.counted)
    mac = sum(ly.mac_j for ly in layers)
    other = sum(ly.other_j for ly in layers)
    req = sum(ly.requant_j for ly in layers)
    mem_lo = sum(ly.memory_low_j for ly in layers)
    mem_hi = sum(ly.memory_high_j for ly in layers)
    compute = mac + other + req
    return EnergyEstimate(table.name, table.source, compute + mem_lo, compute + mem_hi, mac, other,
                          req, mem_lo, mem_hi, weights_fit, acts_fit, buffer_bytes, layers)  # fmt: skip


def estimate_variants(counted: dict, tables: tuple[str, ...], buffer_bytes: int) -> dict:
    """{variant: {"counts": totals, "estimates": {table: estimate with its per-layer energies}}};
    the flat table prices the profiler's FLOPs where there are some (the report's convention),
    else 2 × MACs."""
    from .tables import load_table

    loaded = [load_table(t) for t in tables]
    out = {}
    for name, fc in counted.items():
        est = {}
        for table in loaded:
            flops = fc.profiler_flops if table.flat and fc.profiler_flops else None
            e = estimate(fc.counts, table, buffer_bytes, flops)
            est[table.name] = {**e.as_dict(), "flops_priced": flops or 2 * fc.counts.macs,
                               "flops_source": "tf-profiler" if flops else "2 x MACs"}  # fmt: skip
        out[name] = {"counts": fc.as_dict(layers=False), "estimates": est}
    return out
