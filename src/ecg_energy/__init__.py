"""ecg-energy: energy and accuracy of ECG model variants."""

__version__ = "0.1.0"
