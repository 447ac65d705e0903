#!/usr/bin/env bash
# Removes what install.sh put under $PREFIX (default ~/.local), and the
# app's login-autostart entry. With --purge it also deletes the settings, the
# logs and the secrets the app stored in the Secret Service (keyring).
set -euo pipefail

app=chatgpt-to-api
prefix=${PREFIX:-$HOME/.local}
purge=0

case "${1:-}" in
	--purge) purge=1 ;;
	"") ;;
	-h | --help) echo "usage: [PREFIX=DIR] $0 [--purge]"; exit 0 ;;
	*) echo "usage: [PREFIX=DIR] $0 [--purge]" >&2; exit 2 ;;
esac

if command -v pgrep >/dev/null && pgrep -x "$app" >/dev/null; then
	echo "Note: ChatGPT-to-API is still running; choose Quit in its tray menu." >&2
fi

removed=0
rm_file() {
	if [[ -e "$1" || -L "$1" ]]; then
		rm -f -- "$1"
		echo "removed $1"
		removed=1
	fi
}

rm_file "$prefix/bin/$app"
rm_file "$prefix/share/applications/$app.desktop"
icondir=$prefix/share/icons/hicolor
for png in "$icondir"/*/apps/"$app.png"; do
	if [[ -e "$png" ]]; then rm_file "$png"; fi
done
if [[ -d "$icondir" ]]; then touch "$icondir"; fi
for f in uninstall.sh README.txt THIRD_PARTY_NOTICES; do
	rm_file "$prefix/share/$app/$f"
done
rmdir "$prefix/share/$app" 2>/dev/null || true
rm_file "${XDG_CONFIG_HOME:-$HOME/.config}/autostart/$app.desktop"
if command -v update-desktop-database >/dev/null && [[ -d "$prefix/share/applications" ]]; then
	update-desktop-database -q "$prefix/share/applications" || true
fi

if ((purge)); then
	for d in "${XDG_CONFIG_HOME:-$HOME/.config}/$app" "${XDG_CACHE_HOME:-$HOME/.cache}/$app"; do
		if [[ -d "$d" ]]; then
			rm -rf -- "$d"
			echo "removed $d"
		fi
	done
	if command -v secret-tool >/dev/null; then
		# go-keyring stores items with the attribute service=<service name>.
		if secret-tool clear service "$app" 2>/dev/null; then
			echo "removed keyring items of service $app"
		else
			echo "Note: could not reach the keyring; remove items named \"$app\" in Passwords and Keys (Seahorse) or KWallet." >&2
		fi
	else
		echo "Note: secret-tool not found; remove keyring items for \"$app\" in Passwords and Keys (Seahorse) or KWallet." >&2
	fi
fi

if ((removed == 0)); then
	echo "Nothing of ChatGPT-to-API was installed under $prefix."
else
	echo "ChatGPT-to-API is uninstalled."
fi
if ((purge == 0)); then
	echo "Settings and logs were kept; run with --purge to delete them and the stored secrets too."
fi
