#!/usr/bin/python3
"""Figures and an index page from an aesweep sweep archive (and its aesweep-analyze results).

Usage: /usr/bin/python3 analysis/report.py ARCHIVE.h5 -o OUTDIR [options]

The report itself is the package analysis/aesweep_report (docs/report.md). Needs Debian's
python3-h5py, python3-matplotlib and python3-numpy (run it with /usr/bin/python3).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from aesweep_report.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
