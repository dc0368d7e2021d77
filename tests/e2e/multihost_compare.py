#!/usr/bin/python3
"""Archive checks for tests/e2e/multihost_test.sh.

  multihost_compare.py same A.h5 B.h5 [--no-analysis]
      Every group, dataset and attribute of the two archives, bit for bit (raw bytes, so NaNs and
      signed zeros count), except what legitimately differs between two launches of the same
      study: the creation time, command line and random id of the file, the per-epoch seconds curve, the
      timing, rank and host fields of each run's metrics and of the summary, and an analysis
      group's creation time, source path and per-run seconds. Both files must hold the same
      objects; every run must be complete. --no-analysis leaves /analysis out (an archive not
      analysed yet against one that is).
  multihost_compare.py states A.h5
      Prints "DONE PENDING TOTAL" from /runs_state.
  multihost_compare.py hosts A.h5 HOST...
      Every done run was trained on one of the HOSTs (by /summary and by the run's own metrics),
      and at least two distinct hosts appear. Prints the hosts and how many runs each trained.
Exit status 0 when the check holds, 1 with a message naming the first differences otherwise.
"""
import sys
from collections import Counter

import h5py
import numpy as np

# Fields of /summary and of /runs/*/metrics that depend on the launch, not on the study.
LAUNCH_FIELDS = {"wall_seconds", "samples_per_second", "rank", "host"}
# Attributes that depend on the launch: (path predicate, attribute name).
def launch_attribute(path, name):
    if path == "/" and name in ("created", "command", "archive_id"):  # archive_id: random per file
        return True
    if path == "/analysis" and name == "source_archive_id":  # the archive_id of its file
        return True
    if path.startswith("/analysis/"):
        depth = path.count("/")
        if depth == 2 and name in ("created", "source_archive"):  # /analysis/<hash>
            return True
        if depth == 4 and name == "seconds":  # /analysis/<hash>/runs/<run>
            return True
    return False


def launch_dataset(path):
    return path.startswith("/runs/") and path.endswith("/epoch_seconds")


def objects(f, with_analysis):
    found = {"/": f}
    def visit(name, obj):
        found["/" + name] = obj
    f.visititems(visit)
    if not with_analysis:
        found = {k: v for k, v in found.items() if not (k == "/analysis" or k.startswith("/analysis/"))}
    return found


def raw(value):
    a = np.asarray(value)
    return a.dtype, a.shape, a.tobytes()


def compare_values(a, b, what, problems):
    da, sa, ba = raw(a)
    db, sb, bb = raw(b)
    if da != db or sa != sb:
        problems.append(f"{what}: type/shape {da}{sa} vs {db}{sb}")
    elif ba != bb:
        problems.append(f"{what}: values differ")


def compare_dataset(path, a, b, problems):
    if a.dtype != b.dtype or a.shape != b.shape:
        problems.append(f"{path}: type/shape {a.dtype}{a.shape} vs {b.dtype}{b.shape}")
        return 0
    if launch_dataset(path):
        return 0
    va, vb = a[()], b[()]
    if a.dtype.names:
        for field in a.dtype.names:
            if field in LAUNCH_FIELDS:
                continue
            compare_values(va[field], vb[field], f"{path} field {field}", problems)
    else:
        compare_values(va, vb, path, problems)
    return 1


def same(a_path, b_path, with_analysis):
    problems = []
    compared = 0
    with h5py.File(a_path, "r") as fa, h5py.File(b_path, "r") as fb:
        for f, p in ((fa, a_path), (fb, b_path)):
            states = f["runs_state"][()]
            if len(states) == 0 or not (states == 1).all():
                problems.append(f"{p}: /runs_state is {states.tolist()}, expected every run complete (1)")
        if with_analysis and "analysis" not in fa:
            problems.append(f"{a_path}: no /analysis group")
        oa, ob = objects(fa, with_analysis), objects(fb, with_analysis)
        for path in sorted(set(oa) ^ set(ob)):
            problems.append(f"{path}: only in {a_path if path in oa else b_path}")
        for path in sorted(set(oa) & set(ob)):
            a, b = oa[path], ob[path]
            if isinstance(a, h5py.Dataset) != isinstance(b, h5py.Dataset):
                problems.append(f"{path}: a dataset in one file, a group in the other")
                continue
            if isinstance(a, h5py.Dataset):
                compared += compare_dataset(path, a, b, problems)
            names_a, names_b = set(a.attrs.keys()), set(b.attrs.keys())
            for name in sorted(names_a ^ names_b):
                problems.append(f"{path}@{name}: only in {a_path if name in names_a else b_path}")
            for name in sorted(names_a & names_b):
                if launch_attribute(path, name):
                    continue
                compare_values(a.attrs[name], b.attrs[name], f"{path}@{name}", problems)
                compared += 1
    if problems:
        print(f"{a_path} and {b_path} differ ({len(problems)} differences):", file=sys.stderr)
        for p in problems[:40]:
            print("  " + p, file=sys.stderr)
        return 1
    print(f"{a_path} == {b_path}: {compared} datasets and attributes identical"
          f"{'' if with_analysis else ' (analysis not compared)'}")
    return 0


def states(path):
    with h5py.File(path, "r") as f:
        s = f["runs_state"][()]
    done = int((s != 0).sum())
    print(done, len(s) - done, len(s))
    return 0


def hosts(path, allowed):
    problems = []
    with h5py.File(path, "r") as f:
        s = f["runs_state"][()]
        summary = f["summary"][()]
        count = Counter()
        for i, state in enumerate(s):
            if state == 0:
                continue
            host = summary["host"][i].decode()
            name = f"{i:06d}"
            own = f["runs"][name]["metrics"][()]["host"].decode()
            if own != host:
                problems.append(f"run {name}: /summary says host {host!r}, its metrics say {own!r}")
            if host not in allowed:
                problems.append(f"run {name} was trained on host {host!r}, not one of {allowed}")
            count[host] += 1
    if len(count) < 2:
        problems.append(f"runs were trained on {len(count)} distinct host(s) {dict(count)}; expected at least 2")
    if problems:
        print(f"{path}: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"{path}: runs per host {dict(sorted(count.items()))}")
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "same":
        extra = argv[3:]
        if extra not in ([], ["--no-analysis"]):
            raise SystemExit(f"unknown options {extra}")
        return same(argv[1], argv[2], not extra)
    if len(argv) == 2 and argv[0] == "states":
        return states(argv[1])
    if len(argv) >= 3 and argv[0] == "hosts":
        return hosts(argv[1], argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
