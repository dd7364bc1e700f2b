"""Label maps: AAMI beat classes and rhythm classes for shockable-rhythm detection.

Sources
- AAMI EC57 beat classes from MIT-BIH symbols: N={N,L,R,e,j}, S={A,a,J,S}, V={V,E}, F={F},
  Q={/,f,Q} (de Chazal et al., IEEE TBME 2004).
- Rhythm aux notes: MIT-BIH Arrhythmia (mitdb) and Malignant Ventricular Ectopy (vfdb) label sets
  (PhysioNet annotation documentation), plus the few the synthetic database adds (STACH, VTSLOW,
  VFINE), mapped to the five rhythm classes used for AED-style analysis (Kerber et al., Circulation
  1997): NSR, ONS (other non-shockable), ASYS, VT, VF. Shockable = rapid VT or VF/VFL.
"""

from __future__ import annotations

RHYTHM_CLASSES: tuple[str, ...] = ("NSR", "ONS", "ASYS", "VT", "VF")
SHOCKABLE_CLASSES: frozenset[str] = frozenset({"VT", "VF"})
AAMI_CLASSES: tuple[str, ...] = ("N", "S", "V", "F", "Q")

# Ventricular tachycardia at or above this rate is "rapid VT" (shockable); below it, slow VT is
# other non-shockable. 150 bpm is the lower edge of the rapid-VT range used throughout.
RAPID_VT_BPM = 150.0

AAMI_MAP: dict[str, str] = {
    "N": "N", "L": "N", "R": "N", "e": "N", "j": "N",
    "A": "S", "a": "S", "J": "S", "S": "S",
    "V": "V", "E": "V",
    "F": "F",
    "/": "Q", "f": "Q", "Q": "Q",
}  # fmt: skip

# WFDB annotation codes that do not mark a beat (rhythm changes, noise, waves, comments…).
NON_BEAT_SYMBOLS: frozenset[str] = frozenset(
    ["[", "]", "!", "x", "(", ")", "p", "t", "u", "`", "'", "^", "|", "~", "+", "s", "T", "*", "D",
     "=", '"', "@"]
)  # fmt: skip

# Rhythm token (aux note without "(") -> (canonical rhythm name, class). The canonical name keeps
# the detail (e.g. AFIB, VTSLOW, VFINE) that the five classes fold together.
RHYTHM_MAP: dict[str, tuple[str, str]] = {
    # normal sinus rhythm
    "N": ("NSR", "NSR"),
    "NSR": ("NSR", "NSR"),
    # other non-shockable rhythms
    "SBR": ("SBR", "ONS"),  # sinus bradycardia
    "STACH": ("STACH", "ONS"),  # sinus tachycardia (synthetic database)
    "AFIB": ("AFIB", "ONS"),
    "AFL": ("AFL", "ONS"),
    "SVTA": ("SVTA", "ONS"),  # supraventricular tachyarrhythmia
    "B": ("B", "ONS"),  # ventricular bigeminy
    "T": ("T", "ONS"),  # ventricular trigeminy
    "BII": ("BII", "ONS"),  # 2nd degree heart block
    "BI": ("BI", "ONS"),  # 1st degree heart block
    "AB": ("AB", "ONS"),  # atrial bigeminy
    "IVR": ("IVR", "ONS"),  # idioventricular rhythm
    "NOD": ("NOD", "ONS"),  # nodal (junctional) rhythm
    "P": ("P", "ONS"),  # paced rhythm
    "PM": ("P", "ONS"),  # pacemaker (vfdb)
    "PREX": ("PREX", "ONS"),  # pre-excitation (WPW)
    "HGEA": ("HGEA", "ONS"),  # high-grade ventricular ectopic activity (vfdb)
    "VER": ("VER", "ONS"),  # ventricular escape rhythm (vfdb)
    "VTSLOW": ("VTSLOW", "ONS"),  # slow VT, < 150 bpm: not shockable (synthetic database)
    # asystole
    "ASYS": ("ASYS", "ASYS"),
    # ventricular tachycardia (rapid unless the beat annotations say < RAPID_VT_BPM)
    "VT": ("VT", "VT"),
    # ventricular fibrillation and flutter
    "VF": ("VF", "VF"),
    "VFIB": ("VF", "VF"),
    "VFL": ("VFL", "VF"),
    "VFINE": ("VFINE", "VF"),  # fine VF, < 200 µV (synthetic database)
}

# Aux tokens that mark unusable signal: windows inside them are dropped, not labelled.
EXCLUDED_RHYTHMS: frozenset[str] = frozenset({"NOISE"})


def rhythm_token(aux_note: str) -> str:
    """The rhythm token of an MIT-BIH rhythm aux note: ``"(AFIB\\x00"`` -> ``"AFIB"``."""
    token = aux_note.strip().strip("\x00").strip()
    if token.startswith("("):
        token = token[1:]
    return token.split()[0].upper() if token.split() else ""


def rhythm_class(token: str) -> tuple[str, str] | None:
    """(canonical rhythm, class) for a rhythm token, or None when the token is unknown."""
    return RHYTHM_MAP.get(token.upper())


def apply_vt_rate(rhythm: str, klass: str, rate_bpm: float) -> tuple[str, str]:
    """Demote VT below :data:`RAPID_VT_BPM` to slow VT (other non-shockable).

    A NaN rate (no beat annotations, as in vfdb) leaves the annotation's VT as it is.
    """
    if klass == "VT" and rate_bpm == rate_bpm and rate_bpm < RAPID_VT_BPM:
        return "VTSLOW", "ONS"
    return rhythm, klass
