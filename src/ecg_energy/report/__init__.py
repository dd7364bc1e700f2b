"""Views of the results: text tables now; report.md, report.html and plots build on them."""
