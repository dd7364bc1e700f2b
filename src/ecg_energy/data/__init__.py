"""ECG data: the synthetic WFDB database, readers for WFDB folders and Kaggle CSVs, datasets."""
