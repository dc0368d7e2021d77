"""The command line: /usr/bin/python3 analysis/report.py ARCHIVE.h5 -o OUTDIR [options]."""
import argparse
import os
import sys

from .util import ReportError, parse_run_list, remove_stale_temporaries

DESCRIPTION = (
    "Turn an aesweep sweep archive (optionally analysed by aesweep-analyze) into PNG figures and an index page "
    "(OUTDIR/index.html and OUTDIR/index.md) showing every figure with its caption. Reproduces the figure types "
    "of paper 000: MSE and latent density against the swept hyperparameter, encoder weight tiles, "
    "original/latent/reconstruction rows, cosine similarity histograms, t-SNE and silhouette against k; plus "
    "loss curves, class-mean cosine matrices, kNN accuracy and two-key grid heatmaps. Pending and failed runs "
    "are skipped and listed. Run it as /usr/bin/python3 analysis/report.py (needs python3-h5py, -matplotlib, "
    "-numpy).")


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="report.py", description=DESCRIPTION,
        epilog="Example: /usr/bin/python3 analysis/report.py out/demo.h5 -o out/demo-report --runs 0-20 --dpi 200")
    p.add_argument("archive", metavar="ARCHIVE.h5", help="sweep archive written by 'aesweep sweep' (docs/archive.md)")
    p.add_argument("-o", "--out", metavar="OUTDIR", required=True,
                   help="output directory for the PNGs and index.html / index.md (created if missing; existing "
                        "files of the same names are overwritten)")
    p.add_argument("--analysis", metavar="HASH", default=None,
                   help="which aesweep-analyze result to use: the options hash under /analysis (default: the one "
                        "named by the /analysis 'latest' attribute); without any /analysis group the analysis "
                        "figures are skipped with a note")
    p.add_argument("--analysis-file", metavar="FILE", default=None,
                   help="read /analysis from this file instead of the archive (for aesweep-analyze --out FILE); a FILE "
                        "without /analysis is an error")
    p.add_argument("--runs", metavar="LIST", type=parse_run_list, default=None,
                   help="only these runs, by study index: comma-separated indices and ranges, e.g. 0,3,10-19 "
                        "(default: every run)")
    p.add_argument("--sections", metavar="NAMES", default=None,
                   help="only these sweep sections, comma-separated names (default: every section)")
    p.add_argument("--dpi", type=int, default=150, help="resolution of the PNG files (default: 150)")
    p.add_argument("--units", type=int, default=0, metavar="N",
                   help="hidden units shown as weight tiles per run (default: all up to 196, else the first 100)")
    args = p.parse_args(argv)
    if args.dpi < 20 or args.dpi > 1200:
        p.error("--dpi must be between 20 and 1200")
    if args.units < 0:
        p.error("--units must be >= 0")
    return args


def make_report(args):
    """Reads the archive, draws the figures and writes the index; returns the Canvas."""
    from .archive import Archive
    from .index import write_index
    from .render import render
    from .sections import build_sections

    archive = Archive(args.archive, args.runs, args.analysis, args.analysis_file)
    wanted = {s.strip() for s in args.sections.split(",") if s.strip()} if args.sections else None
    sections = build_sections(archive, wanted)
    if wanted:
        archive.select({r.index for s in sections for r in s.runs})
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        raise ReportError(f"{args.out}: cannot create the output directory ({e.strerror})") from None
    remove_stale_temporaries(args.out)
    canvas = render(archive, sections, args.out, args.dpi, args.units)
    write_index(canvas, archive, sections, args.out, args.dpi)
    return canvas


def main(argv=None):
    args = parse_args(argv)
    try:
        canvas = make_report(args)
    except ReportError as e:
        print(f"report.py: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("report.py: interrupted; every file written so far is whole: run the same command again",
              file=sys.stderr)
        return 130
    except (OSError, RuntimeError, KeyError, ValueError) as e:
        # h5py's errors on a damaged file (an unreadable attribute, a missing object).
        print(f"report.py: error: {args.archive} cannot be read: it is damaged or not an aesweep archive ({e})",
              file=sys.stderr)
        return 2
    print(f"report.py: wrote {len(canvas.figures)} figures and {os.path.join(args.out, 'index.html')}")
    return 0
