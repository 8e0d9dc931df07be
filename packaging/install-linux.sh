#!/usr/bin/env sh
# Installs a Mirror build for the current user: the app folder, a `mirror-desktop` command, the
# menu entry (.desktop file) and the icon in every size. No root needed; nothing outside $HOME.
#
#   ./install-linux.sh              from inside an unpacked dist/mirror-desktop/ folder
#   ./install-linux.sh --uninstall  removes the app folder, command, menu entry and icons
#                                   (never the journal: that lives in ~/.local/share/Mirror)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
prefix=${MIRROR_PREFIX:-$HOME/.local/opt/mirror-desktop}
bin_dir=$HOME/.local/bin
sizes="16 32 48 64 128 256 512"

if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$prefix" "$bin_dir/mirror-desktop" "$data_home/applications/mirror-desktop.desktop"
  for s in $sizes; do rm -f "$data_home/icons/hicolor/${s}x${s}/apps/mirror-desktop.png"; done
  rm -f "$data_home/icons/hicolor/scalable/apps/mirror-desktop.svg"
  echo "Mirror is uninstalled; your journal is still in $data_home/Mirror."
  exit 0
fi

[ -x "$here/mirror-desktop" ] || { echo "install-linux.sh: run me from the unpacked mirror-desktop folder." >&2; exit 2; }
icons="$here/_internal/mirror_desktop/assets/icons"
if [ "$here" != "$prefix" ]; then
  rm -rf "$prefix"
  mkdir -p "$(dirname "$prefix")"
  cp -a "$here" "$prefix"
fi
mkdir -p "$bin_dir" "$data_home/applications" "$data_home/icons/hicolor/scalable/apps"
ln -sf "$prefix/mirror-desktop" "$bin_dir/mirror-desktop"
for s in $sizes; do
  mkdir -p "$data_home/icons/hicolor/${s}x${s}/apps"
  cp "$icons/mirror-$s.png" "$data_home/icons/hicolor/${s}x${s}/apps/mirror-desktop.png"
done
cp "$icons/mirror.svg" "$data_home/icons/hicolor/scalable/apps/mirror-desktop.svg"
# The menu entry runs the installed binary by its full path, so ~/.local/bin need not be on PATH.
sed -e "s|^Exec=.*|Exec=$prefix/mirror-desktop|" -e "s|^TryExec=.*|TryExec=$prefix/mirror-desktop|" \
  "$here/mirror-desktop.desktop" > "$data_home/applications/mirror-desktop.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data_home/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$data_home/icons/hicolor" || true
echo "Mirror is installed in $prefix; start it from your applications menu or with: mirror-desktop"
