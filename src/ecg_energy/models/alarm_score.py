"""Score a rhythm detector at ICU alarms, as the PhysioNet/CinC Challenge 2015 scored alarm checks.

Each alarm is judged on the windows of the 16 s before it (``data.alarms``): the detector calls the
alarm true or false, and the call is compared with the alarm's label. Per alarm type: the true
positive rate (true alarms called true), the true negative rate (false alarms called false, i.e.
suppressed) and the Challenge score (TP + TN) / (TP + TN + FP + 5·FN): a true alarm suppressed
costs five times a false alarm kept.

How an alarm type becomes a decision of a five-class rhythm detector (NSR, ONS, ASYS, VT, VF):
- Ventricular_Tachycardia, Ventricular_Flutter_Fib: true when the detector advises a shock (VT or
  VF) in at least ``min_windows`` windows of the span — the shock decision.
- Asystole: true when the detector calls asystole (ASYS) in at least ``min_windows`` windows.
- Bradycardia, Tachycardia: not scored. These alarms are about the heart rate (under 40 or over
  140 bpm for some beats), which a rhythm-class detector does not estimate; they are counted,
  with how often a shock was advised in them, and left out of the scores.
The arithmetic is pure; ``score_alarm_files`` runs model files on the windows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SHOCK_CLASSES = ("VT", "VF")
# alarm type -> the classes whose call confirms the alarm (None: not scored, and why)
ALARM_DECISIONS: dict[str, tuple[str, ...] | None] = {
    "Ventricular_Tachycardia": SHOCK_CLASSES,
    "Ventricular_Flutter_Fib": SHOCK_CLASSES,
    "Asystole": ("ASYS",),
    "Bradycardia": None,
    "Tachycardia": None,
}
NOT_SCORED_WHY = "a heart-rate alarm; the rhythm detector does not estimate the rate"
DEFAULT_MIN_WINDOWS = 1


def challenge_score(tp: int, tn: int, fp: int, fn: int) -> float | None:
    """The Challenge 2015 score (TP + TN) / (TP + TN + FP + 5·FN); None with no alarms.

    >>> challenge_score(3, 5, 2, 2)
    0.4"""
    den = tp + tn + fp + 5 * fn
    return (tp + tn) / den if den else None


def confusion(truth: np.ndarray, called: np.ndarray) -> dict[str, int]:
    """TP, TN, FP, FN of alarm calls against the alarms' labels (True: a true alarm).

    >>> confusion(np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool))
    {'tp': 1, 'tn': 1, 'fp': 1, 'fn': 1}"""
    t, c = np.asarray(truth, bool), np.asarray(called, bool)
    return {"tp": int((t & c).sum()), "tn": int((~t & ~c).sum()), "fp": int((~t & c).sum()),
            "fn": int((t & ~c).sum())}  # fmt: skip


def rates(cm: dict[str, int]) -> dict:
    """The confusion with its true-positive rate, true-negative rate and Challenge score."""
    tp, tn, fp, fn = cm["tp"], cm["tn"], cm["fp"], cm["fn"]
    return {**cm, "alarms": tp + tn + fp + fn, "true_alarms": tp + fn, "false_alarms": tn + fp,
            "tpr": tp / (tp + fn) if tp + fn else None,
            "tnr": tn / (tn + fp) if tn + fp else None,
            "challenge_score": challenge_score(tp, tn, fp, fn)}  # fmt: skip


def alarm_calls(pred: np.ndarray, alarm_index: np.ndarray, n_alarms: int, class_names,
                classes: tuple[str, ...], min_windows: int = DEFAULT_MIN_WINDOWS) -> np.ndarray:  # fmt: skip
    """Per alarm: whether at least ``min_windows`` of its windows were called one of
    ``classes``. E.g. pred classes [VF, NSR, NSR, NSR], alarms [0, 0, 1, 1] -> [True, False]."""
    hit = np.isin(np.asarray(class_names)[pred], classes)
    counts = np.bincount(alarm_index[hit], minlength=n_alarms)
    return counts >= min_windows


def score_calls(kinds: list[str], truth: np.ndarray, pred: np.ndarray, alarm_index: np.ndarray,
                class_names, scored: np.ndarray,
                min_windows: int = DEFAULT_MIN_WINDOWS) -> dict:  # fmt: skip
    """Per alarm type and over the scored types: the confusion, TPR, TNR and Challenge score.
    ``scored`` marks the alarms that had windows (the rest were left out by the reader)."""
    kinds_a, truth = np.asarray(kinds), np.asarray(truth, bool)
    shock = alarm_calls(pred, alarm_index, len(kinds), class_names, SHOCK_CLASSES, min_windows)
    per_type, total = {}, {"tp": 0, "tn": 0, "fp": 0, "fn": 0}
    shock_total = dict(total)
    for kind, decided_by in ALARM_DECISIONS.items():
        sel = (kinds_a == kind) & scored
        if not sel.any():
            continue
        if decided_by is None:
            per_type[kind] = {"scored": False, "why": NOT_SCORED_WHY, "alarms": int(sel.sum()),
                              "true_alarms": int(truth[sel].sum()),
                              "shock_advised": int(shock[sel].sum())}  # fmt: skip
            continue
        called = alarm_calls(pred, alarm_index, len(kinds), class_names, decided_by, min_windows)
        cm = confusion(truth[sel], called[sel])
        per_type[kind] = {"scored": True, "called_by": list(decided_by), **rates(cm)}
        total = {k: total[k] + cm[k] for k in total}
        if decided_by == SHOCK_CLASSES:
            shock_total = {k: shock_total[k] + cm[k] for k in total}
    return {"per_type": per_type, "overall": rates(total), "shock_alarms": rates(shock_total)}


def score_alarm_files(paths: list[str], aw, *, unsafe: bool = False,
                      min_windows: int = DEFAULT_MIN_WINDOWS, preprocessing: str | None = None,
                      echo: Callable[[str], None] | None = None) -> dict:  # fmt: skip
    """Every model file scored at the alarms of ``aw`` (``data.alarms.AlarmWindows``), after its
    own input preprocessing unless ``preprocessing`` names another."""
    from ..data.labels import RHYTHM_CLASSES
    from .assess import logits_of, raise_nonfinite
    from .io import check_fits, load_model_file

    scored = np.zeros(len(aw.alarms), bool)
    scored[aw.scored] = True
    kinds = [a.kind for a in aw.alarms]
    truth = np.array([a.true for a in aw.alarms])
    out = {}
    for path in paths:
        mf = load_model_file(path, unsafe=unsafe)
        check_fits(mf, aw.X.shape[1:], RHYTHM_CLASSES)
        logits = logits_of(mf, aw.X, preprocessing)
        if not np.isfinite(logits).all():
            raise_nonfinite(mf.path)
        pred = np.argmax(logits, axis=1)
        name = mf.name if mf.name not in out else path
        out[name] = {"file": path, "format": mf.format, "precision": mf.precision,
                     "preprocessing": preprocessing or mf.preprocessing,
                     **score_calls(kinds, truth, pred, aw.alarm_index, RHYTHM_CLASSES, scored,
                                   min_windows)}  # fmt: skip
        if echo:
            s = out[name]["overall"]["challenge_score"]
            echo(f"  {name}: Challenge score {s:.3f}" if s is not None else f"  {name}: no score")
    return out


def alarm_summary(aw, min_windows: int) -> dict:
    """How the alarms were read and judged (for results.json beside the scores)."""
    kinds: dict[str, dict[str, int]] = {}
    for a in aw.alarms:
        row = kinds.setdefault(a.kind, {"true": 0, "false": 0})
        row["true" if a.true else "false"] += 1
    return {"alarms": len(aw.alarms), "scored_alarms": len(aw.scored), "by_type": kinds,
            "windows": int(len(aw.X)), "span_s": aw.span_s, "window_s": aw.window_s,
            "stride_s": aw.stride_s, "alarm_time_from": dict(aw.alarm_at),
            "leads": dict(aw.leads), "left_out": dict(aw.left_out),
            "decision": {k: list(v) if v else None for k, v in ALARM_DECISIONS.items()},
            "min_windows": min_windows,
            "rule": f"an alarm is called true when at least {min_windows} of the windows of the "
                    f"{aw.span_s:g} s before it are called one of its classes"}  # fmt: skip


def evaluate_alarm_folder(paths: list[str], folder: str, *, window_s: float, stride_s: float,
                          alarm_at_s: float | None = None, min_windows: int = 1,
                          preprocessing: str | None = None, unsafe: bool = False,
                          echo: Callable[[str], None] = lambda _m: None) -> dict:  # fmt: skip
    """Model files scored at the alarms of a Challenge-2015 folder: how the alarm records were
    read, and per model file the per-type and overall scores (see ``api.evaluate_alarms``)."""
    import os

    from ..data.alarms import load_alarm_windows

    aw = load_alarm_windows(os.fspath(folder), window_s=window_s, stride_s=stride_s,
                            alarm_at_s=alarm_at_s)  # fmt: skip
    variants = score_alarm_files(paths, aw, unsafe=unsafe, min_windows=min_windows,
                                 preprocessing=preprocessing, echo=echo)  # fmt: skip
    return {"alarm_records": {"folder": os.path.abspath(folder), **alarm_summary(aw, min_windows)},
            "variants": variants}  # fmt: skip
