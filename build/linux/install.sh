#!/usr/bin/env bash
# Installs ChatGPT-to-API for the current user, from the unpacked tarball:
#   $PREFIX/bin/chatgpt-to-api
#   $PREFIX/share/applications/chatgpt-to-api.desktop
#   $PREFIX/share/icons/hicolor/<size>/apps/chatgpt-to-api.png
#   $PREFIX/share/chatgpt-to-api/{uninstall.sh,README.txt,THIRD_PARTY_NOTICES}
# PREFIX defaults to ~/.local. No root needed; nothing outside PREFIX is touched.
set -euo pipefail

app=chatgpt-to-api
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prefix=${PREFIX:-$HOME/.local}

usage() {
	echo "usage: [PREFIX=DIR] $0    (default PREFIX: ~/.local)"
}
case "${1:-}" in
	-h | --help) usage; exit 0 ;;
	"") ;;
	*) usage >&2; exit 2 ;;
esac

bindir=$prefix/bin
appsdir=$prefix/share/applications
icondir=$prefix/share/icons/hicolor
sharedir=$prefix/share/$app

for f in "$app" "$app.desktop" install.sh uninstall.sh; do
	[[ -f "$here/$f" ]] || { echo "install.sh: $here/$f is missing; run me from the unpacked tarball" >&2; exit 1; }
done

# copy SRC DST MODE: write next to DST, then rename, so that replacing a
# running binary or a half-written file is never visible.
copy() {
	mkdir -p "$(dirname "$2")"
	cp -f "$1" "$2.tmp.$$"
	chmod "$3" "$2.tmp.$$"
	mv -f "$2.tmp.$$" "$2"
}

# desktop_exec PATH: PATH as a desktop-entry Exec value (quoted and escaped
# per the Desktop Entry spec when it has anything but safe characters).
desktop_exec() {
	local p=$1
	if [[ "$p" =~ ^[A-Za-z0-9/._+-]+$ ]]; then
		printf '%s' "$p"
		return
	fi
	p=${p//\\/\\\\}   # quoting level: backslash, double quote, backtick, dollar
	p=${p//\"/\\\"}
	p=${p//\`/\\\`}
	p=${p//\$/\\\$}
	p=${p//%/%%}      # field codes
	p=${p//\\/\\\\}   # string level: every backslash is escaped once more
	printf '"%s"' "$p"
}

copy "$here/$app" "$bindir/$app" 755

for png in "$here"/icons/hicolor/*/apps/"$app.png"; do
	[[ -e "$png" ]] || { echo "install.sh: no icons in $here/icons" >&2; exit 1; }
	size=$(basename "$(dirname "$(dirname "$png")")")
	copy "$png" "$icondir/$size/apps/$app.png" 644
done
touch "$icondir" # lets icon theme caches notice the change
if [[ -f "$icondir/icon-theme.cache" ]] && command -v gtk-update-icon-cache >/dev/null; then
	gtk-update-icon-cache -q -t -f "$icondir" || true
fi

exec_line="Exec=$(desktop_exec "$bindir/$app")"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
while IFS= read -r line || [[ -n "$line" ]]; do
	if [[ "$line" == Exec=* ]]; then
		printf '%s\n' "$exec_line"
	else
		printf '%s\n' "$line"
	fi
done <"$here/$app.desktop" >"$tmp"
copy "$tmp" "$appsdir/$app.desktop" 644
if command -v update-desktop-database >/dev/null; then
	update-desktop-database -q "$appsdir" || true
fi

copy "$here/uninstall.sh" "$sharedir/uninstall.sh" 755
for f in README.txt THIRD_PARTY_NOTICES; do
	if [[ -f "$here/$f" ]]; then copy "$here/$f" "$sharedir/$f" 644; fi
done

echo "Installed ChatGPT-to-API:"
echo "  program:        $bindir/$app"
echo "  menu entry:     $appsdir/$app.desktop"
echo "  icons:          $icondir/<size>/apps/$app.png"
echo "  uninstall with: $sharedir/uninstall.sh"
echo "Start \"ChatGPT-to-API\" from your applications menu, then sign in from its tray icon."
case ":${PATH:-}:" in
	*":$bindir:"*) ;;
	*) echo "Note: $bindir is not on your PATH; the menu entry works regardless." ;;
esac
