"""The report's code: a package of short functions behind a thin analysis/report.py."""
import ast
import glob
import os

from helpers import REPORT

PACKAGE = os.path.join(os.path.dirname(REPORT), "aesweep_report")


def functions(path):
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), path)
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_no_function_longer_than_80_lines():
    files = sorted(glob.glob(os.path.join(PACKAGE, "*.py"))) + [REPORT]
    assert len(files) > 10
    long = [f"{os.path.basename(p)}:{n.name} ({n.end_lineno - n.lineno + 1} lines)"
            for p in files for n in functions(p) if n.end_lineno - n.lineno + 1 > 80]
    assert long == []


def test_entry_point_is_thin():
    with open(REPORT, encoding="utf-8") as fh:
        code = [line for line in fh if line.strip() and not line.lstrip().startswith("#")]
    assert len(code) < 25
    assert functions(REPORT) == []
