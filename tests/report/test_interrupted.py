"""A report killed mid-write leaves hidden temporary files (.NAME.PID.tmp) in its directory; the
next report removes those of processes no longer running, and nothing else."""
import os

import studies
from helpers import render


def dead_pid():
    """A process id that no process has now."""
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_a_rerun_removes_what_a_killed_report_left(tmp_path):
    path = str(tmp_path / "study.h5")
    studies.build_two_sections(path)
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f".tsne_a.png.{dead_pid()}.tmp"
    stale.write_bytes(b"\x89PNG half a figure")
    running = out / f".index.html.{os.getppid()}.tmp"  # a live process's: not ours to remove
    running.write_text("being written")
    notes = out / ".notes.tmp"
    notes.write_text("someone's")
    huge = out / ".x.99999999999999999999.tmp"  # no process id at all (os.kill would overflow)
    huge.write_text("someone's too")
    render(path, str(out), "--dpi", "40")
    assert not stale.exists()
    assert running.exists() and notes.exists() and huge.exists()
    assert (out / "tsne_a.png").exists()
