"""Small helpers shared by every part of the report: text from HDF5, number formatting, value
comparison, image shapes, list thinning and wrapping, the --runs parser."""
import argparse
import math
import os
import re

import numpy as np

BOOLEAN_KEYS = {"model.bias"}
MAX_LINES = 12


class ReportError(Exception):
    """A problem with the input that ends the report with a message and exit status 2."""


def write_file(path, write):
    """Calls write(temporary_path), then renames the result to `path`: a file of the report is
    whole or absent, never cut short. A failure (a full disk, a quota) is a ReportError naming
    the file, and leaves no temporary file behind."""
    tmp = os.path.join(os.path.dirname(path) or ".", f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise ReportError(f"{path}: cannot write ({e.strerror or e})") from None


TEMPORARY = re.compile(r"^\..+\.(\d+)\.tmp$")


def remove_stale_temporaries(directory):
    """Removes the temporary files (write_file's names) that a report killed mid-write left in
    `directory`: those of processes no longer running. Returns how many it removed."""
    removed = 0
    for name in os.listdir(directory):
        match = TEMPORARY.match(name)
        if not match:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
            continue  # a report running now (rare: two reports into one directory)
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError, ValueError):
            continue  # not a process of ours, or not a process id at all
        try:
            os.remove(os.path.join(directory, name))
            removed += 1
        except OSError:
            pass
    return removed


def text(value):
    """A str from an HDF5 string (bytes, numpy bytes, a bytes array or str)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").rstrip("\x00")
    if isinstance(value, np.ndarray) and value.dtype.kind == "S":
        return text(value.tobytes())
    return str(value)


def is_text(value):
    return isinstance(value, (bytes, np.bytes_, str))


def lines(value):
    """The non-empty lines of a multi-line string attribute."""
    return [line.strip() for line in text(value).splitlines() if line.strip()]


def scalar(value):
    """An HDF5 attribute or field as str (strings) or a Python number."""
    return text(value) if is_text(value) else np.asarray(value).item()


def is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def finite(value):
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def fmt_number(v, digits=3):
    if v is None:
        return "–"
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.{digits}g}"


def fmt_value(key, value):
    if is_number(value):
        if key in BOOLEAN_KEYS:
            return "true" if float(value) != 0 else "false"
        return fmt_number(value)
    return str(value)


def same_value(a, b):
    if is_number(a) and is_number(b):
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-300
    return a == b


def distinct(values):
    """The distinct values (same_value) in order of first appearance."""
    out = []
    for v in values:
        if not any(same_value(v, u) for u in out):
            out.append(v)
    return out


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "section"


def near_square_shape(n):
    """(rows, cols) of an image holding n values: the exact square if n is one, else the most
    square exact factorisation (cols at most 2 rows), else a padded near-square."""
    n = int(n)
    s = math.isqrt(n)
    if s * s == n:
        return s, s
    for rows in range(s, 0, -1):
        if n % rows == 0 and n // rows <= 2 * rows:
            return rows, n // rows
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def padded_square_shape(n):
    """(rows, cols) of a near-square grid for n cells, the last row padded: 196 -> 14x14, 50 -> 7x8."""
    cols = max(1, math.ceil(math.sqrt(int(n))))
    return math.ceil(int(n) / cols), cols


def as_image(vector, shape):
    rows, cols = shape
    out = np.full(rows * cols, np.nan, dtype=np.float64)
    out[: len(vector)] = vector
    return out.reshape(rows, cols)


def thin(items, limit):
    """At most `limit` items, evenly spaced, keeping the first and the last."""
    if len(items) <= limit:
        return list(items)
    step = (len(items) - 1) / (limit - 1)
    return [items[i] for i in sorted({round(i * step) for i in range(limit)})]


def wrap(s, width):
    """s broken after ', ' into lines of at most about `width` characters."""
    if len(s) <= width:
        return s
    parts, line = [], ""
    for token in s.split(", "):
        if line and len(line) + 2 + len(token) > width:
            parts.append(line + ",")
            line = token
        else:
            line = f"{line}, {token}" if line else token
    parts.append(line)
    return "\n".join(parts)


def run_ids(runs):
    return ", ".join(f"{r.index:06d}" for r in runs)


def parse_run_list(spec):
    out = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if b < a:
                raise argparse.ArgumentTypeError(f"bad run range '{part}'")
            out.update(range(a, b + 1))
        elif part.isdigit():
            out.add(int(part))
        else:
            raise argparse.ArgumentTypeError(f"bad run list '{spec}' (expected e.g. 0,3,5-9)")
    return out
