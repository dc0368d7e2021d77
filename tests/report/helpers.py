"""Running the report (in this process, or as the command scripts use) and checking its output."""
import os
import subprocess
import sys

from aesweep_report.cli import make_report, parse_args

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.abspath(os.path.join(HERE, "..", "..", "analysis", "report.py"))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def render(archive, out, *options):
    """The report drawn in this process; returns its Canvas (figures with captions and legends)."""
    return make_report(parse_args([archive, "-o", out, *options]))


def run_cli(*args):
    """analysis/report.py as a command: the CompletedProcess."""
    return subprocess.run([PYTHON, REPORT, *args], capture_output=True, text=True, timeout=600)


def index_html(out):
    with open(os.path.join(out, "index.html"), encoding="utf-8") as fh:
        return fh.read()


def assert_png(path, min_bytes=1000):
    assert os.path.isfile(path), f"{path} missing"
    assert os.path.getsize(path) > min_bytes, f"{path} is only {os.path.getsize(path)} bytes"
    with open(path, "rb") as fh:
        assert fh.read(8) == PNG_MAGIC, f"{path} is not a PNG"


def check_report(out, expected=(), absent=(), words=()):
    """Every expected PNG exists, is a PNG and is shown on the index page; every PNG written is
    shown with a caption; the absent ones are not there; the words are on the page."""
    assert os.path.isfile(os.path.join(out, "index.md"))
    html = index_html(out)
    for png in expected:
        assert_png(os.path.join(out, png))
        assert f"src='{png}'" in html, f"index.html does not show {png}"
    for png in absent:
        assert not os.path.exists(os.path.join(out, png)), f"{png} should not exist"
    for png in sorted(x for x in os.listdir(out) if x.endswith(".png")):
        assert f"src='{png}'" in html and f"<b>{png}</b>" in html, f"{png} not captioned in index.html"
    for word in words:
        assert word in html, f"index.html does not mention {word!r}"
    return html


def axes_record(ax):
    """What one axes shows: title, x ticks and their labels, x limits, and every line drawn."""
    lines = [{"x": [float(v) for v in ln.get_xdata()], "y": [float(v) for v in ln.get_ydata()],
              "marker": ln.get_marker(), "colour": ln.get_color(), "linestyle": ln.get_linestyle(),
              "fill": ln.get_markerfacecolor(), "label": ln.get_label()} for ln in ax.get_lines()]
    legend = ax.get_legend()
    return {"title": ax.get_title(), "xticks": [float(v) for v in ax.get_xticks()],
            "xticklabels": [t.get_text() for t in ax.get_xticklabels()], "xlim": ax.get_xlim(),
            "xaxis_visible": ax.xaxis.get_visible() and ax.axison, "lines": lines,
            "legend": [t.get_text() for t in legend.get_texts()] if legend is not None else [],
            "legend_loc": legend._loc if legend is not None else None,
            "legend_outside": legend is not None and legend.get_bbox_to_anchor().x0 > ax.bbox.x1 - 1}


def record_axes(monkeypatch):
    """Canvas.save wrapped so that every figure's visible axes are recorded (axes_record) before the
    figure is closed: {file name: [axes record]}."""
    from aesweep_report.canvas import Canvas
    drawn = {}
    original = Canvas.save

    def save(self, fig, name, *args, **kwargs):
        drawn[name] = [axes_record(ax) for ax in fig.axes if ax.get_visible()]
        return original(self, fig, name, *args, **kwargs)

    monkeypatch.setattr(Canvas, "save", save)
    return drawn
