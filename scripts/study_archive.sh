#!/usr/bin/env bash
# The archive a study's results go to, for run_study.sh; prints its path. It is OUT/NAME.h5, NAME
# the config's file name without .ini, and OUT/NAME.config records the config file it belongs to:
#   - the same study (same config hash) resumes there, wherever its config file now lives;
#   - this config file, edited since the archive was written (and no program writing it now):
#     the old archive is kept as OUT/NAME.STAMP.h5 (its report as OUT/NAME.STAMP-report) and the
#     study starts afresh;
#   - another config file of the same name (another directory), or an archive whose config file
#     was not recorded, and another study: that archive is left alone, and this one's results go
#     to OUT/NAME-XXXXXXXX.h5 (XXXXXXXX from this config file's real path, so the same file
#     always finds the same archive).
# Usage: scripts/study_archive.sh CONFIG OUT_DIR AESWEEP_PROGRAM
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 CONFIG OUT_DIR AESWEEP_PROGRAM" >&2; exit 2; }
config=$(realpath -e -- "$1")  # one file, one path: symlinks, ./ and .. resolved
out=$2 aesweep=$3
name=$(basename "$config" .ini)
plan=$("$aesweep" plan "$config")
want=$(printf '%s\n' "$plan" | sed -n 's/.* sweep sections\{0,1\}, hash \([0-9a-f]\{1,\}\)$/\1/p' | head -1)
[ -n "$want" ] || { echo "study_archive.sh: 'aesweep plan' did not print the study's hash for $config" >&2; exit 1; }
config_hash() { printf '%s' "$1" | sed -n 's/.*"config_hash": "\([0-9a-f]*\)".*/\1/p' | head -1; }

archive="$out/$name.h5"
owner=$(cat "$out/$name.config" 2>/dev/null || true)
own_name="$name-$(printf '%s' "$config" | sha256sum | cut -c1-8)"
if [ -f "$out/$own_name.h5" ]; then
  name=$own_name  # this config file's own archive, from an earlier run
elif [ -f "$archive" ] && [ "$owner" != "$config" ]; then
  # Another config file's archive, or one written before NAME.config was kept (owner unknown):
  # the same study resumes it; another study leaves it alone.
  have=$(config_hash "$("$aesweep" status --json "$archive" 2>/dev/null || true)")
  if [ "$have" != "$want" ]; then
    name=$own_name
    echo "study_archive.sh: $archive holds the study of ${owner:-another config (not recorded)}," \
         "not this one; the results of $config go to $out/$name.h5" >&2
  fi
fi
archive="$out/$name.h5"
if [ -f "$archive" ]; then
  # Written from another version of this config file, and no program writing it now: kept aside.
  status=$("$aesweep" status --json "$archive" 2>/dev/null || true)
  have=$(config_hash "$status")
  if [ -n "$have" ] && [ "$want" != "$have" ] && [[ $status == *'"writer": null'* ]]; then
    kept="$out/$name.$(date +%Y%m%dT%H%M%S)"
    n=1
    while [ -e "$kept.h5" ] || [ -e "$kept-report" ]; do kept="$out/$name.$(date +%Y%m%dT%H%M%S)-$n"; n=$((n + 1)); done
    mv -n -- "$archive" "$kept.h5"
    [ ! -e "$archive" ] || { echo "study_archive.sh: could not move $archive aside to $kept.h5" >&2; exit 1; }
    report=""
    if [ -d "$out/$name-report" ]; then
      mv -n -T -- "$out/$name-report" "$kept-report"
      report=" (its report as $kept-report)"
    fi
    echo "study_archive.sh: $config changed since $archive was written: the old archive is kept as" \
         "$kept.h5$report; starting afresh" >&2
  fi
fi
printf '%s\n' "$config" > "$out/$name.config"
printf '%s\n' "$archive"
