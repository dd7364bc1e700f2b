"""The recommendation on hand-made results: checked against what a person works out on paper."""

from ecg_energy.report.fmt import fmt_j
from ecg_energy.report.recommend import RecommendConfig, pareto_set, recommend

AHA_PASS = {"coarse VF": {"measure": "sensitivity", "n": 50, "estimate": 1.0, "lower90": 0.95,
                          "goal": 0.9, "lower_goal": 0.87, "passed": True},
            "fine VF": {"measure": "sensitivity", "n": 10, "estimate": 0.5, "lower90": 0.3,
                        "goal": None, "lower_goal": None, "passed": None}}  # fmt: skip


def variant(net_j, ci, bal, fails_rapid_vt=False, measured=False):
    rapid = {"rapid VT": {"measure": "sensitivity", "n": 40, "estimate": 0.6, "lower90": 0.5,
                          "goal": 0.75, "lower_goal": 0.67, "passed": False}}  # fmt: skip
    return {
        "measurements": {"1": {"energy_j_per_inference_net": {"median": net_j, "ci95": ci},
                               "energy_j_per_inference_gross": {"median": 2 * net_j,
                                                                "ci95": [2 * c for c in ci]},
                               "trials": [{"method": "rapl" if measured else "cputime-model",
                                           "measured": measured}] * 3}},
        "estimates": {"horowitz-45nm": {"low_j": net_j / 10, "high_j": net_j * 10}},
        "accuracy": {"balanced_accuracy": bal, "aha": {**AHA_PASS, **(rapid if fails_rapid_vt else {})}},
    }  # fmt: skip


def results():
    return {
        "original": variant(10e-6, [9e-6, 11e-6], 0.95),
        "small-but-unsafe": variant(2e-6, [1.5e-6, 2.5e-6], 0.97, fails_rapid_vt=True),
        "distilled": variant(5e-6, [4.5e-6, 5.5e-6], 0.93),
    }


def test_lowest_energy_variant_that_meets_the_aha_goals():
    rec = recommend(results(), RecommendConfig())
    assert rec["variant"] == "distilled"
    assert rec["reason"].startswith("distilled is the lowest-energy variant that meets the AHA")
    assert "5 µJ" in rec["reason"] and "2x less energy than the original" in rec["reason"]
    assert [c["variant"] for c in rec["candidates"]] == ["distilled", "original"]
    # the cheaper variant is excluded because rapid VT sensitivity misses its goal
    assert rec["excluded"] == {
        "small-but-unsafe": [
            "rapid VT sensitivity 60.0% (lower 90% bound 50.0%; goal 75.0%, bound 67.0%)"
        ]
    }
    # fine VF carries no AHA goal, so its 50% sensitivity excludes nobody
    assert rec["pareto"] == ["small-but-unsafe"]  # lower energy and higher accuracy than both
    assert "modelled, not read from a hardware counter" in rec["caveats"][0]


def test_no_variant_meets_the_constraint_says_so():
    res = {"a": variant(1e-6, [1e-6, 1e-6], 0.9, fails_rapid_vt=True),
           "b": variant(3e-6, [3e-6, 3e-6], 0.8, fails_rapid_vt=True)}  # fmt: skip
    rec = recommend(res, RecommendConfig())
    assert rec["variant"] is None and rec["candidates"] == []
    assert rec["reason"] == (
        "No variant meets the constraint (the AHA goals for shockable-rhythm "
        "detection) with a usable energy figure, so none is recommended; see why each was excluded."
    )
    assert set(rec["excluded"]) == {"a", "b"}
    assert rec["pareto"] == ["a"]


def test_balanced_accuracy_constraint_and_drop_bound():
    rec = recommend(results(), RecommendConfig(constraint="balanced-accuracy",
                                               min_balanced_accuracy=0.94))  # fmt: skip
    assert rec["variant"] == "small-but-unsafe"
    assert rec["excluded"]["distilled"] == ["balanced accuracy 93.0% < 94.0%"]
    rec = recommend(results(), RecommendConfig(constraint="none", max_drop_pts=1.0))
    assert rec["variant"] == "small-but-unsafe"  # 0.97 is not below the original
    assert rec["excluded"]["distilled"] == [
        "balanced accuracy 2.00 points below the original (allowed 1)"
    ]


def test_overlapping_intervals_are_a_caveat():
    res = results()
    res["original"] = variant(5.2e-6, [4.9e-6, 5.6e-6], 0.95, measured=True)
    res["distilled"] = variant(5e-6, [4.5e-6, 5.5e-6], 0.93, measured=True)
    rec = recommend(res, RecommendConfig())
    assert rec["variant"] == "distilled"
    assert rec["caveats"] == [
        "Not distinguishable by energy on this evidence from original (5.2 µJ) (within 10% or "
        "overlapping 95% intervals)."
    ]
    assert "1.04x less energy" in rec["reason"]


def test_a_variant_without_the_ranked_figure_is_excluded_with_its_reason():
    res = results()
    res["distilled"]["measurements"] = {"1": {"error": "RuntimeError: boom"}}
    rec = recommend(res, RecommendConfig())
    assert rec["variant"] == "original"
    assert rec["excluded"]["distilled"] == [
        "no usable net J per inference at batch 1: its measurement failed (RuntimeError: boom)"
    ]
    assert rec["ranked"]["basis"] == "measured-net"  # a failed variant does not move the others
    # ranked by an estimate instead: the geometric middle of the table's range
    rec = recommend(res, RecommendConfig(energy="estimate"))
    assert rec["variant"] == "distilled" and rec["candidates"][0]["energy_j"] == 5e-6


def test_pareto_and_units():
    pts = {"a": (1.0, 0.90), "b": (2.0, 0.95), "c": (3.0, 0.94), "d": (2.0, 0.95)}
    assert pareto_set(pts) == ["a", "b", "d"]  # ties do not dominate each other
    assert [fmt_j(x) for x in (1.45e-5, 0.0023, 4.2e-9, 0.0)] == ["14.5 µJ", "2.3 mJ", "4.2 nJ",
                                                                  "0 J"]  # fmt: skip


def test_variants_the_measurement_cannot_tell_apart_go_to_the_lower_estimate():
    # distilled (fp32, 5.0 µJ) and distilled-int8 (5.3 µJ): 6% apart, within the 10% margin;
    # distilled-int8 does the same work at int8: estimate 0.5 µJ against 5 µJ
    res = results()
    res["distilled-int8"] = variant(5.3e-6, [5.25e-6, 5.35e-6], 0.93)
    res["distilled-int8"]["estimates"]["horowitz-45nm"] = {"low_j": 0.25e-6, "high_j": 1e-6}
    rec = recommend(res, RecommendConfig())
    assert [c["variant"] for c in rec["candidates"]] == ["distilled", "distilled-int8", "original"]
    assert rec["variant"] == "distilled-int8" and rec["tie"]["variants"] == ["distilled",
                                                                            "distilled-int8"]  # fmt: skip
    assert rec["reason"].startswith(
        "distilled-int8 is recommended among the variants that meet the AHA goals for "
        "shockable-rhythm detection: its 5.3 µJ net per inference at batch 1 (cputime-model, "
        "modelled) cannot be told apart on this machine from the lowest, distilled at 5 µJ "
        "(within 10% or overlapping 95% intervals), and of those it has the lowest estimated "
        "energy (horowitz-45nm: 500 nJ against 5 µJ)"
    )  # sqrt(0.25 × 1) µJ = 0.5 µJ
    from ecg_energy.report.plots import energy_accuracy

    caption = energy_accuracy({"variants": res, "recommendation": rec}).caption
    assert caption.endswith("The measured figures of distilled, distilled-int8 cannot be told apart "
                            "(within 10% or overlapping intervals); of these the recommendation "
                            "takes the lowest estimate.")  # fmt: skip
    # 20% apart with separate intervals: told apart, the measured lowest stays
    res["distilled-int8"] = variant(6e-6, [5.9e-6, 6.1e-6], 0.93)
    res["distilled-int8"]["estimates"]["horowitz-45nm"] = {"low_j": 0.25e-6, "high_j": 1e-6}
    assert recommend(res, RecommendConfig())["variant"] == "distilled"
    # and tie_break "none" keeps the measured order whatever the margin
    res["distilled-int8"] = variant(5.3e-6, [5.25e-6, 5.35e-6], 0.93)
    assert recommend(res, RecommendConfig(tie_break="none"))["variant"] == "distilled"


def test_an_unresolved_net_figure_is_never_ranked_and_the_fallback_says_why():
    res = results()
    unresolved = {"resolved": False, "median": None, "ci95": None, "upper_j": 1.2e-6, "trials": 5}
    res["distilled"]["measurements"]["1"]["energy_j_per_inference_net"] = unresolved
    rec = recommend(res, RecommendConfig())
    assert rec["ranked"] == {
        "basis": "measured-gross", "requested": "measured-net",
        "order": ["measured-net", "measured-gross", "estimate"],
        "text": "Ranked by gross J per inference at batch 1, not net J per inference at batch 1, "
                "because a variant ranked has no usable figure there (net J per inference at "
                "batch 1: distilled (its net figure is unresolved (≤ 1.2 µJ)))."}  # fmt: skip
    # by gross (2 x net in these results): distilled 10 µJ < original 20 µJ
    assert [c["variant"] for c in rec["candidates"]] == ["distilled", "original"]
    assert rec["candidates"][0]["energy_j"] == 10e-6 and rec["variant"] == "distilled"
    assert rec["ranked"]["text"] in rec["caveats"]
    assert rec["pareto"] == ["small-but-unsafe"]  # on the figure ranked (gross)
    # --rank-by measured-gross names the first kind itself; gross missing too -> the estimate
    res["distilled"]["measurements"]["1"]["energy_j_per_inference_gross"] = None
    rec = recommend(res, RecommendConfig(energy="measured-gross"))
    assert rec["ranked"]["basis"] == "estimate" and rec["variant"] == "distilled"
    assert rec["ranked"]["order"] == ["measured-gross", "estimate"]  # the declared fallbacks


def test_an_invalid_measurement_is_not_ranked():
    res = results()
    res["distilled"]["measurements"]["1"]["invalid"] = "3 of 5 trials stayed contaminated"
    rec = recommend(res, RecommendConfig(fallback=("estimate",)))
    assert rec["ranked"]["basis"] == "estimate"
    assert "its measurement is invalid: 3 of 5 trials stayed contaminated" in rec["ranked"]["text"]


def board_row(j, days, fits=True, realtime=True, skipped=None):
    if skipped:
        return {"skipped": skipped}
    return {"energy_j": j, "energy_j_low": j * 0.8, "energy_j_high": j * 1.2, "fits": fits,
            "realtime": realtime, "method": "mlperf-tiny-calibrated", "battery_days": days,
            "battery_days_low": days - 50, "battery_days_high": days + 50}  # fmt: skip


def wearable_results():
    """Four variants priced on two boards; the host measured each at batch 1."""
    out = {
        "original": variant(100e-6, [90e-6, 110e-6], 0.98),
        "student-plain-int8": variant(26.4e-6, [25e-6, 28e-6], 0.95),
        "distilled-int8": variant(31.3e-6, [30e-6, 33e-6], 0.97),
        "original-int8": variant(50e-6, [45e-6, 55e-6], 0.98),
    }
    rows = {
        "original": (board_row(None, None, skipped="a Keras model: convert it to LiteRT"),
                     board_row(None, None, skipped="a Keras model: convert it to LiteRT")),
        "student-plain-int8": (board_row(12e-6, 300), board_row(20e-6, 200)),
        "distilled-int8": (board_row(12e-6, 300), board_row(20e-6, 200)),
        "original-int8": (board_row(80e-6, 100, fits=False), board_row(9e-6, 400)),
    }  # fmt: skip
    for name, (stm, efr) in rows.items():
        out[name]["device"] = {"stm32u575": stm, "efr32mg24": efr}
    return out


def test_with_boards_named_the_first_board_ranks_and_the_host_stands_beside_it():
    # on stm32u575 both INT8 students cost 12 µJ (one network, one precision): the more accurate
    # is chosen; original-int8 does not fit, the Keras original cannot run there. On the
    # efr32mg24 (named second) original-int8 would be lowest: the first board decides.
    rec = recommend(wearable_results(), RecommendConfig(), ["stm32u575", "efr32mg24"])
    assert rec["variant"] == "distilled-int8"
    assert rec["ranked"]["basis"] == "device:stm32u575"
    assert rec["settings"]["energy"] == "auto"
    assert rec["reason"] == (
        "distilled-int8 is the lowest-energy variant on stm32u575 that fits, keeps real time and "
        "meets the AHA goals for shockable-rhythm detection: 12 µJ per inference there "
        "(modelled), with balanced accuracy 97.0% (the same energy as student-plain-int8, which "
        "is less accurate), 300 days of battery (250-350); on this host it measured 31.3 µJ net "
        "per inference at batch 1 (cputime-model, modelled)."
    )
    assert [c["variant"] for c in rec["candidates"]] == ["distilled-int8", "student-plain-int8"]
    assert [c["host"]["j"] for c in rec["candidates"]] == [31.3e-6, 26.4e-6]
    assert (
        rec["excluded"]["original-int8"][0]
        == "no usable J per inference on stm32u575: does not fit stm32u575"
    )


def test_without_boards_the_host_ranks_as_before():
    res = wearable_results()
    for v in res.values():
        del v["device"]
    rec = recommend(res, RecommendConfig(), [])
    assert rec["variant"] == "student-plain-int8"
    assert rec["ranked"]["basis"] == "measured-net"
    assert rec["reason"].startswith(
        "student-plain-int8 is the lowest-energy variant that meets the AHA goals for "
        "shockable-rhythm detection: 26.4 µJ net per inference at batch 1 (cputime-model, modelled)"
    )


def test_a_rank_asked_for_is_kept_when_boards_are_named():
    rec = recommend(wearable_results(), RecommendConfig(energy="measured-net"), ["stm32u575"])
    assert rec["ranked"]["basis"] == "measured-net" and rec["variant"] == "student-plain-int8"
