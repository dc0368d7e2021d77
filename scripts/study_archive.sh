#!/usr/bin/env bash
# The archive a study's results go to, for run_study.sh; prints its path. It is OUT/NAME.h5, NAME
# the config's file name without .ini, and OUT/NAME.config records the config file it belongs to:
#   - the same study (same config hash) resumes there, wherever its config file now lives;
#   - this config file, edited since the archive was written (and no program writing it now):
#     the old archive is kept as OUT/NAME.STAMP.h5 (its report as OUT/NAME.STAMP-report) and the
#     study starts afresh;
#   - another config file of the same name (another directory) and another study: its archive is
#     left alone, and this one's results go to OUT/NAME-XXXXXXXX.h5 (XXXXXXXX from this config's
#     absolute path, so the same file always finds the same archive).
# Usage: scripts/study_archive.sh CONFIG OUT_DIR AESWEEP_PROGRAM (CONFIG an absolute path)
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 CONFIG OUT_DIR AESWEEP_PROGRAM" >&2; exit 2; }
config=$1 out=$2 aesweep=$3
name=$(basename "$config" .ini)
plan=$("$aesweep" plan "$config")
want=$(printf '%s\n' "$plan" | sed -n '1s/.*, hash \([0-9a-f]*\)$/\1/p')
config_hash() { printf '%s' "$1" | sed -n 's/.*"config_hash": "\([0-9a-f]*\)".*/\1/p' | head -1; }

archive="$out/$name.h5"
owner=$(cat "$out/$name.config" 2>/dev/null || true)
own_name="$name-$(printf '%s' "$config" | sha256sum | cut -c1-8)"
if [ -f "$out/$own_name.h5" ]; then
  name=$own_name  # this config file's own archive, from an earlier run
elif [ -f "$archive" ] && [ -n "$owner" ] && [ "$owner" != "$config" ]; then
  have=$(config_hash "$("$aesweep" status --json "$archive" 2>/dev/null || true)")
  if [ -z "$have" ] || [ "$have" != "$want" ]; then
    name=$own_name
    echo "study_archive.sh: $archive holds the study of $owner, another config file of the same name;" \
         "the results of $config go to $out/$name.h5" >&2
  fi
fi
archive="$out/$name.h5"
if [ -f "$archive" ]; then
  # Written from another version of the config, and no program writing it now: kept aside.
  status=$("$aesweep" status --json "$archive" 2>/dev/null || true)
  have=$(config_hash "$status")
  if [ -n "$want" ] && [ -n "$have" ] && [ "$want" != "$have" ] && printf '%s' "$status" | grep -q '"writer": null'; then
    stamp=$(date +%Y%m%dT%H%M%S)
    mv "$archive" "$out/$name.$stamp.h5"
    [ -d "$out/$name-report" ] && mv "$out/$name-report" "$out/$name.$stamp-report"
    echo "study_archive.sh: $config changed since $archive was written: the old archive is kept as" \
         "$out/$name.$stamp.h5 (its report as $out/$name.$stamp-report); starting afresh" >&2
  fi
fi
printf '%s\n' "$config" > "$out/$name.config"
printf '%s\n' "$archive"
