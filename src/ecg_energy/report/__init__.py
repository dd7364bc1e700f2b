"""Views of the results: terminal tables (text), the shared report tables, report.md, report.html
with its plots, results.csv, and the recommendation."""
