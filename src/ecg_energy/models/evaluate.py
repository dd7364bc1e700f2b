"""Clinical evaluation: per-class metrics and the AHA performance goals for shock advice.

AHA goals for AED rhythm-analysis algorithms (Kerber et al., Circulation 1997;95:1677-82): the
shock/no-shock decision must reach a goal as a point estimate, and the one-sided 90% lower
confidence limit must reach a second value. Lower limits here are exact (Clopper-Pearson).
All functions are pure: arrays in, numbers out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (group, measure, goal for the point estimate, minimum one-sided 90% lower confidence limit)
AHA_GOALS: tuple[tuple[str, str, float | None, float | None], ...] = (
    ("coarse VF", "sensitivity", 0.90, 0.87),
    ("rapid VT", "sensitivity", 0.75, 0.67),
    ("NSR", "specificity", 0.99, 0.97),
    ("asystole", "specificity", 0.95, 0.92),
    ("other non-shockable", "specificity", 0.95, 0.88),
    # the "intermediate" rhythms: reported, no goal; slow VT is not shockable by our labels, so
    # its figure is the share with no shock advised; it is not counted with "other non-shockable"
    ("fine VF", "sensitivity", None, None),
    ("slow VT", "specificity", None, None),
)
COARSE_VF_UV = 200.0  # AHA: coarse VF has a peak-to-peak amplitude above 200 µV


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """counts[true, predicted]."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def per_class(cm: np.ndarray, class_names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Sensitivity (recall), PPV (precision), F1 and support of each class."""
    out = {}
    for k, name in enumerate(class_names):
        tp = cm[k, k]
        sens, ppv = _ratio(tp, cm[k].sum()), _ratio(tp, cm[:, k].sum())
        f1 = _ratio(2 * sens * ppv, sens + ppv) if sens == sens and ppv == ppv else float("nan")
        out[name] = {"sensitivity": sens, "ppv": ppv, "f1": f1, "support": int(cm[k].sum())}
    return out


def summary(cm: np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy (mean sensitivity over classes present) and macro-F1 (over
    classes present in the truth)."""
    present = cm.sum(axis=1) > 0
    sens = np.diag(cm)[present] / cm.sum(axis=1)[present]
    col = cm.sum(axis=0)[present]
    ppv = np.divide(np.diag(cm)[present], col, out=np.zeros(len(col)), where=col > 0)
    f1 = np.divide(2 * sens * ppv, sens + ppv, out=np.zeros(len(sens)), where=(sens + ppv) > 0)
    return {
        "accuracy": _ratio(np.trace(cm), cm.sum()),
        "balanced_accuracy": float(sens.mean()) if len(sens) else float("nan"),
        "macro_f1": float(f1.mean()) if len(f1) else float("nan"),
        "n": int(cm.sum()),
    }


def clopper_pearson_lower(successes: int, n: int, confidence: float = 0.90) -> float:
    """Exact one-sided lower confidence limit of a proportion (e.g. 157/157 -> 0.1**(1/157))."""
    from scipy.stats import beta

    if n == 0:
        return float("nan")
    if successes == 0:
        return 0.0
    return float(beta.ppf(1.0 - confidence, successes, n - successes + 1))


def aha_groups(
    class_names: tuple[str, ...], y: np.ndarray, rhythm: np.ndarray, amplitude_uv: np.ndarray
) -> np.ndarray:
    """The AHA rhythm group of each window ("" where none applies)."""
    names = np.asarray(class_names)[y]
    coarse = (names == "VF") & (rhythm != "VFINE") & (amplitude_uv > COARSE_VF_UV)
    out = np.full(len(y), "", dtype=object)
    out[names == "VF"] = "fine VF"
    out[coarse] = "coarse VF"
    out[names == "VT"] = "rapid VT"
    out[names == "NSR"] = "NSR"
    out[names == "ASYS"] = "asystole"
    out[names == "ONS"] = "other non-shockable"
    out[(names == "ONS") & (rhythm == "VTSLOW")] = "slow VT"
    return out


@dataclass(frozen=True)
class AhaRow:
    group: str
    measure: str
    n: int
    correct: int
    estimate: float
    lower90: float
    goal: float | None
    lower_goal: float | None
    passed: bool | None  # None: no goal, or no windows of this rhythm

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def aha_table(groups: np.ndarray, shock_advised: np.ndarray) -> list[AhaRow]:
    """Sensitivity (shock advised) or specificity (no shock) per AHA group, against the goals."""
    rows = []
    for group, measure, goal, lower_goal in AHA_GOALS:
        sel = groups == group
        n = int(sel.sum())
        hits = shock_advised[sel] if measure == "sensitivity" else ~shock_advised[sel]
        correct = int(hits.sum())
        est, low = _ratio(correct, n), clopper_pearson_lower(correct, n)
        passed = None if goal is None or n == 0 else bool(est > goal and low >= lower_goal)
        rows.append(AhaRow(group, measure, n, correct, est, low, goal, lower_goal, passed))
    return rows


def agreement(pred_a: np.ndarray, pred_b: np.ndarray) -> float:
    """Fraction of examples on which two models give the same class."""
    return float(np.mean(np.asarray(pred_a) == np.asarray(pred_b)))


def evaluate_predictions(
    pred: np.ndarray,
    y: np.ndarray,
    class_names: tuple[str, ...],
    rhythm: np.ndarray | None = None,
    amplitude_uv: np.ndarray | None = None,
    task: str = "rhythm",
) -> dict:
    """Every metric of one model on one set of examples, as plain JSON-ready values.

    Per class (sensitivity, PPV, F1), overall (accuracy, balanced accuracy, macro-F1), the
    confusion matrix, and for the rhythm task the AHA table of the shock decision (a predicted
    VT or VF advises a shock).
    """
    cm = confusion_matrix(y, pred, len(class_names))
    out = {
        **summary(cm),
        "per_class": per_class(cm, class_names),
        "confusion": {"classes": list(class_names), "matrix": cm.tolist()},
    }
    if task == "rhythm" and {"VT", "VF"} <= set(class_names):
        shock = np.isin(np.asarray(class_names)[pred], ["VT", "VF"])
        groups = aha_groups(class_names, y, rhythm, amplitude_uv)
        rows = aha_table(groups, shock)
        out["aha"] = {r.group: r.as_dict() for r in rows}
        out["shock_decision"] = shock_decision(groups, shock)
        n_pos, n_neg = out["shock_decision"]["shockable"], out["shock_decision"]["non_shockable"]
        judged = [r.passed for r in rows if r.passed is not None]
        out["aha_all_pass"] = bool(judged) and all(judged)
        out["not_computable"] = not_computable(rows, n_pos, n_neg)
    return out


SHOCKABLE_GROUPS = ("coarse VF", "rapid VT")
NON_SHOCKABLE_GROUPS = ("NSR", "asystole", "other non-shockable")
INTERMEDIATE_GROUPS = ("fine VF", "slow VT")


def shock_decision(groups: np.ndarray, shock: np.ndarray) -> dict:
    """Sensitivity over the shockable AHA groups (coarse VF, rapid VT) and specificity over the
    non-shockable ones (NSR, asystole, other non-shockable), as AHA sets them apart (Kerber et
    al. 1997): the intermediate rhythms (fine VF, slow VT), where a shock's benefit is uncertain,
    count in neither and are reported apart (windows, shocks advised)."""
    pos, neg = np.isin(groups, SHOCKABLE_GROUPS), np.isin(groups, NON_SHOCKABLE_GROUPS)
    mid = np.isin(groups, INTERMEDIATE_GROUPS)
    n_pos, n_neg = int(pos.sum()), int(neg.sum())
    return {
        "sensitivity": float(shock[pos].sum() / n_pos) if n_pos else None,
        "specificity": float((~shock[neg]).sum() / n_neg) if n_neg else None,
        "shockable": n_pos,
        "non_shockable": n_neg,
        "intermediate": int(mid.sum()),
        "intermediate_shocked": int(shock[mid].sum()),
    }


def not_computable(rows: list[AhaRow], n_pos: int, n_neg: int) -> list[str]:
    """The figures these examples cannot give, and why: e.g. a database without shockable
    windows has no shock sensitivity and no coarse VF or rapid VT row."""
    out = []
    if not n_pos:
        out.append("shock sensitivity (no shockable coarse VF or rapid VT windows)")
    if not n_neg:
        out.append("shock specificity (no non-shockable windows)")
    out += [f"{r.group} {r.measure} (no {r.group} windows)" for r in rows
            if r.goal is not None and r.n == 0]  # fmt: skip
    return out


# A decision over consecutive windows (``decide_over``): a device that analyses every stride can
# act on the mean of its last few outputs, at the same one inference per stride. These pure
# helpers make that decision; ``assess.scores`` applies it to a model's logits on a dataset.


def window_stride(groups: np.ndarray, start_s: np.ndarray) -> float | None:
    """The stride of a windowed dataset: the most common step between the starts of a record's
    successive windows, or None where no record has two windows at different times (beats of the
    Kaggle CSVs). E.g. groups [a, a, a, a, b], starts [0, 2, 4, 8, 0] -> 2.0."""
    steps: list[float] = []
    starts = np.asarray(start_s, dtype=np.float64)
    for g in np.unique(groups):
        s = np.unique(np.round(starts[groups == g], 3))
        steps += np.diff(s).tolist()
    if not steps:
        return None
    values, counts = np.unique(np.round(steps, 3), return_counts=True)
    return float(values[np.argmax(counts)])


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, in float64: logits -> class probabilities."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def decide_over(logits: np.ndarray, groups: np.ndarray, start_s: np.ndarray,
                windows: int) -> tuple[np.ndarray, dict]:  # fmt: skip
    """The class decided for each window from the mean class probabilities of it and of up to
    ``windows - 1`` windows before it in the same record (one stride apart), and how:
    {"windows", "stride_s", "with_predecessor" (the share of windows with the one before)}.
    ``windows`` 1 is the window's own argmax."""
    if windows < 1:
        raise ValueError("decide_over must be at least 1 window")
    stride = window_stride(groups, start_s)
    prev = (previous_window(groups, start_s, stride) if stride is not None
            else np.full(len(groups), -1))  # fmt: skip
    pred = np.argmax(causal_mean(softmax(logits), prev, windows), axis=1)
    return pred, {"windows": int(windows), "stride_s": stride,
                  "with_predecessor": float((prev >= 0).mean()) if len(prev) else 0.0}  # fmt: skip


def previous_window(groups: np.ndarray, start_s: np.ndarray, stride_s: float) -> np.ndarray:
    """The index of each window's predecessor (same record, starting ``stride_s`` earlier), or
    -1. E.g. groups [a, a, a, b], starts [0, 2, 6, 2], stride 2 -> [-1, 0, -1, -1]."""
    at = {(g, round(float(s), 3)): i for i, (g, s) in enumerate(zip(groups, start_s))}
    return np.array([at.get((g, round(float(s) - stride_s, 3)), -1)
                     for g, s in zip(groups, start_s)], dtype=int)  # fmt: skip


def causal_mean(p: np.ndarray, prev: np.ndarray, n: int) -> np.ndarray:
    """Mean of each row of ``p`` and of up to ``n - 1`` predecessors along ``prev`` (-1: none).
    E.g. p = [[1, 0], [0, 1], [0, 1]], prev = [-1, 0, 1], n = 2 -> [[1, 0], [.5, .5], [0, 1]]."""
    total, count = np.array(p, dtype=np.float64), np.ones(len(p))
    at = np.arange(len(p))
    for _ in range(n - 1):
        at = np.where(at >= 0, prev[np.maximum(at, 0)], -1)
        have = at >= 0
        total[have] += p[at[have]]
        count += have
    return total / count[:, None]
