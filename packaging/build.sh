#!/usr/bin/env bash
# Builds the one-folder desktop app at dist/mirror-desktop/ with PyInstaller, checks what it carries,
# and runs its smoke check: open a new journal offscreen, migrate it, save a 1280x800 screenshot.
#
#   packaging/build.sh [--clean] [--no-smoke]
#
# Environment: PYTHON (default python3), MIRROR_SMOKE_DIR (where the smoke journal and shot.png go;
# default a fresh temp folder), MIRROR_SMOKE_TIMEOUT (seconds, default 120).
# Prints BUILD_SECONDS=, DIST_SIZE= and SMOKE_SCREENSHOT= lines for CI and BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
clean=()
smoke=1
for arg in "$@"; do
  case "$arg" in
    --clean) clean=(--clean) ;;
    --no-smoke) smoke=0 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown option $arg; use --clean or --no-smoke." >&2; exit 2 ;;
  esac
done

if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
  echo "build.sh: PyInstaller is not installed; run: $PYTHON -m pip install -e '.[build]'" >&2
  exit 2
fi

DIST=dist/mirror-desktop
APP="$DIST/mirror-desktop"
start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm "${clean[@]}" --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/mirror-desktop.spec
seconds=$(( $(date +%s) - start ))

fail() { echo "build.sh: $*" >&2; exit 1; }
[ -x "$APP" ] || fail "the build did not produce $APP."

# Desktop integration travels with the folder, so an unpacked build installs itself (README).
if [ "$(uname -s)" = "Linux" ]; then
  cp packaging/mirror-desktop.desktop packaging/install-linux.sh "$DIST/"
fi

# What the build must carry, and what it must not.
internal="$DIST/_internal"
ls "$internal"/mirror_desktop/migrations/sqlite/*.sql >/dev/null 2>&1 \
  || fail "the migrations are missing from $internal/mirror_desktop/migrations/sqlite."
[ -f "$internal/mirror_desktop/assets/icons/mirror.svg" ] || fail "the icons are missing from the build."
[ -d "$internal/PySide6/Qt/plugins/platforms" ] || fail "the Qt platform plugins are missing from the build."
if find "$DIST" -iname '*webengine*' | grep -q .; then
  fail "QtWebEngine ended up in the build; check the spec's excludes."
fi

# --version loads the shipped migrations through importlib.resources, so it proves they are found.
version_out=$(QT_QPA_PLATFORM=offscreen timeout 60 "$APP" --version 2>&1) || fail "--version failed: $version_out"
echo "$version_out"

size=$(du -sh "$DIST" | cut -f1)
echo "BUILD_SECONDS=$seconds"
echo "DIST_SIZE=$size"

if [ "$smoke" = 1 ]; then
  smoke_dir="${MIRROR_SMOKE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/mirror-smoke.XXXXXX")}"
  mkdir -p "$smoke_dir"
  shot="$smoke_dir/shot.png"
  rm -f "$shot"
  if ! QT_QPA_PLATFORM=offscreen timeout "${MIRROR_SMOKE_TIMEOUT:-120}" \
      "$APP" --data-dir "$smoke_dir/data" --screenshot "$shot"; then
    fail "the smoke check failed: the built app did not open a new journal and save $shot."
  fi
  [ -s "$shot" ] || fail "the smoke check wrote no screenshot at $shot."
  [ -s "$smoke_dir/data/mirror_os.db" ] || fail "the smoke check created no journal in $smoke_dir/data."
  echo "SMOKE_SCREENSHOT=$shot"
  # An encrypted journal (issue 19): the build carries SQLCipher, refuses a wrong passphrase in one
  # sentence and opens the journal (not the lock screen) with the right one. The journal is encrypted
  # with this checkout's `mirror encrypt`; the build itself has no command line.
  enc="$smoke_dir/encrypted"
  rm -rf "$enc"
  printf 'smoke test passphrase\n' > "$smoke_dir/pass.txt"
  printf 'not the passphrase\n' > "$smoke_dir/wrong.txt"
  "$PYTHON" -m mirror_desktop.cli --data-dir "$enc" db status >/dev/null \
    && "$PYTHON" -m mirror_desktop.cli --data-dir "$enc" encrypt --passphrase-file "$smoke_dir/pass.txt" >/dev/null \
    || fail "could not make the encrypted smoke journal with $PYTHON."
  if QT_QPA_PLATFORM=offscreen timeout 60 "$APP" --data-dir "$enc" --journal-passphrase-file "$smoke_dir/wrong.txt" \
      --screenshot "$smoke_dir/wrong.png" 2>"$smoke_dir/wrong.err"; then
    fail "the build opened an encrypted journal with a wrong passphrase."
  fi
  grep -q "does not open the journal" "$smoke_dir/wrong.err" || fail "a wrong passphrase got no sentence: $(cat "$smoke_dir/wrong.err")"
  eshot="$smoke_dir/encrypted.png"
  QT_QPA_PLATFORM=offscreen timeout "${MIRROR_SMOKE_TIMEOUT:-120}" "$APP" --data-dir "$enc" \
      --journal-passphrase-file "$smoke_dir/pass.txt" --screenshot "$eshot" 2>"$smoke_dir/enc.err" \
    || fail "the built app did not open the encrypted journal: $(cat "$smoke_dir/enc.err")"
  [ -s "$eshot" ] || fail "the encrypted smoke check wrote no screenshot."
  if grep -q "locked" "$smoke_dir/enc.err"; then fail "the built app showed the lock screen despite the passphrase."; fi
  echo "SMOKE_ENCRYPTED_SCREENSHOT=$eshot"
fi
echo "build.sh: built $APP in ${seconds}s ($size)."
