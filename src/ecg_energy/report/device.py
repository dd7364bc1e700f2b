"""The device section: per board and model, energy and latency with ranges, memory fit, real
time and days of battery; imported on-device measurements beside the prediction. Views of the
``device`` part of ``results.json`` (or of the ``device`` command's JSON)."""

from __future__ import annotations

from . import tables as t
from .fmt import bytes_text, fmt_j, range_text, seconds_text


def _days(d) -> str:
    return "n/a" if d is None else (f"{d:.0f}" if d >= 10 else f"{d:.2g}")


def _yes(b) -> str:
    return "n/a" if b is None else ("yes" if b else "NO")


def device_table(dev: dict, accuracy: dict | None = None) -> t.Table:
    """One row per board and model."""
    head = ["device", "model", "energy / inference [range]", "latency [range]", "arena",
            "SRAM need / has", "flash need / has", "fits", "real time", "battery days [range]",
            "inference share", "measured on device", "method"]  # fmt: skip
    if accuracy:
        head.insert(2, "balanced acc.")
    rows = []
    for device, models in dev.get("by_device", {}).items():
        prof = dev.get("profiles", {}).get(device, {})
        for model, r in models.items():
            if r.get("skipped"):  # listed once in the notes
                continue
            else:
                imp = r.get("imported")  # joined by results (with_imports)
                cells = [device, model,
                         range_text(r["energy_j"], r["energy_j_low"], r["energy_j_high"], fmt_j),
                         range_text(r["latency_s"], r["latency_s_low"], r["latency_s_high"], seconds_text),
                         bytes_text(r.get("arena_bytes")),
                         f"{bytes_text(r.get('sram_bytes'))} / {bytes_text(prof.get('sram_bytes'))}",
                         f"{bytes_text(r.get('flash_bytes'))} / {bytes_text(prof.get('flash_bytes'))}",
                         _yes(r.get("fits")), _yes(r.get("realtime")),
                         range_text(r.get("battery_days"), r.get("battery_days_low"),
                                r.get("battery_days_high"), _days),
                         "n/a" if r.get("inference_share") is None
                         else f"{100 * r['inference_share']:.0f}%",
                         f"{fmt_j(imp['energy_j'])} ({imp['method']})" if imp else "",
                         (r.get("method") or "n/a") + ("" if r.get("measured") else ", modelled")]  # fmt: skip
            if accuracy:
                bal = (accuracy.get(model) or {}).get("balanced_accuracy")
                cells.insert(2, "n/a" if bal is None else f"{100 * bal:.1f}%")
            rows.append(cells)
    return head, rows


def device_notes(dev: dict) -> list[str]:
    """What a reader must know: the duty cycle and battery, TFLM's agreement with LiteRT,
    missing operators, and each row's notes (once each)."""
    s = dev.get("settings", {})
    bat = s.get("battery") or {}
    out = [f"Duty cycle: one window every {s.get('stride_s', 2.0):g} s, sleeping between; battery "
           f"{bat.get('name')} ({bat.get('capacity_mah'):g} mAh at {bat.get('voltage_v'):g} V, "
           f"{bat.get('source')}); rest of the device {1e3 * s.get('rest_w', 0.0):g} mW."]  # fmt: skip
    emulated = s.get("method") == "emulated"
    out.append("Energy and latency are modelled from each board's MLPerf Tiny measurements of "
               "other models (" + ("method emulated: the model's own instructions on the "
               "emulated core x the board's cycles and J per instruction; per MAC where a row "
               "says so" if emulated else "J and cycles per MAC") + ", 90% prediction band), "
               "not measured on it; SRAM is TFLM's arena for the model (tflite-micro "
               f"{s.get('tflm_version') or 'not installed'}"
               + ("; the emulated core's own arena on emulated rows" if emulated else "")
               + ") plus the runtime's stated overhead.")  # fmt: skip
    for name, m in (dev.get("models") or {}).items():
        tf = m.get("tflm") or {}
        ag = tf.get("agreement")
        if ag:
            out.append(f"{name}: TFLM and LiteRT agree on {100 * ag['same_class']:.1f}% of "
                       f"{ag['windows']} test windows' classes ({100 * ag['identical']:.1f}% "
                       f"identical outputs, largest difference {ag['max_abs_diff']:g}).")  # fmt: skip
        if tf.get("missing_ops"):
            out.append(f"{name}: TFLM has no kernel for {', '.join(tf['missing_ops'])}.")
    skipped: dict[str, list[str]] = {}
    for models in dev.get("by_device", {}).values():
        for model, r in models.items():
            if r.get("skipped") and model not in skipped.setdefault(r["skipped"], []):
                skipped[r["skipped"]].append(model)
    for why, names in skipped.items():
        out.append(f"Not priced: {', '.join(names)} ({why}).")
    seen = set()
    for device, models in dev.get("by_device", {}).items():
        for model, r in models.items():
            for note in r.get("notes", []):
                key = note.replace(model, "{m}")
                if key not in seen:
                    seen.add(key)
                    out.append(f"{device} / {model}: {note}.")
    return out
