"""``python -m ecg_energy.cli``: the same as the ``ecg-energy`` command."""

import sys

from . import main

sys.exit(main())
