"""aesweep_report: figures and an index page from an aesweep sweep archive (docs/report.md).

Modules: archive (reading the file), sections (the section model), canvas (what the figures
share), one module per figure family (overview, curves, grids, weights, recon, cosine, tsne,
kmeans), render (which figures a report draws), index (the index page), cli (the command line,
run by analysis/report.py)."""
