#!/usr/bin/env bash
# Smoke test of the Windows exe under Debian's wine (64-bit only, no display):
# boots a throw-away wine prefix, adds the test-only bcryptprimitives.dll stub
# (wine 8.0 lacks the DLL that Go >= 1.22 needs; see wine/bcryptprimitives.c),
# starts ChatGPT-to-API.exe --headless on a free loopback port and checks that
# GET /v1/models answers 200 with a model list when given the API key, and 401
# without it.
#
#   build/windows/smoke-wine.sh [PATH/TO/ChatGPT-to-API.exe]
#
# Without an argument it uses the newest dist/chatgpt-to-api_*_windows_amd64
# build, building one (ARCHES=amd64 build/build.sh windows) if there is none.
# Missing Debian packages (wine wine64 gcc-mingw-w64-x86-64-win32) are
# installed with apt-get when running as root, unless SMOKE_WINE_NO_INSTALL=1.
# Takes about a minute with the packages present.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/build/windows
started=$SECONDS

log() { printf '==> [%3ds] %s\n' "$((SECONDS - started))" "$*" >&2; }
die() { printf 'smoke-wine.sh: FAIL: %s\n' "$*" >&2; exit 1; }

need=()
command -v wine >/dev/null || need+=(wine wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64-win32)
if ((${#need[@]})); then
	if [[ "${SMOKE_WINE_NO_INSTALL:-}" == 1 || $(id -u) != 0 ]]; then
		die "missing ${need[*]}; install: apt-get install --no-install-recommends ${need[*]}"
	fi
	log "apt-get install ${need[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

exe=${1:-}
if [[ -z "$exe" ]]; then
	exe=$(find "$root/dist" -path '*_windows_amd64/ChatGPT-to-API.exe' -printf '%T@ %p\n' 2>/dev/null | sort -rn | head -n 1 | cut -d' ' -f2- || true)
	if [[ -z "$exe" ]]; then
		log "no Windows build in dist/; building one"
		ARCHES=amd64 "$root/build/build.sh" windows
		exe=$(find "$root/dist" -path '*_windows_amd64/ChatGPT-to-API.exe' -printf '%T@ %p\n' | sort -rn | head -n 1 | cut -d' ' -f2-)
	fi
fi
[[ -f "$exe" ]] || die "no exe at '$exe'"
exe=$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smoke-wine.XXXXXX")
pid=
cleanup() {
	local rc=$?
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [[ -d "$tmp/prefix" ]]; then
		WINEPREFIX=$tmp/prefix wineserver -k 2>/dev/null || true
		WINEPREFIX=$tmp/prefix wineserver -w 2>/dev/null || true
	fi
	if ((rc != 0)) && [[ -f "$tmp/app.log" ]]; then
		echo "--- wine output (last 40 lines) ---" >&2
		tail -n 40 "$tmp/app.log" >&2 || true
	fi
	rm -rf -- "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building the check helper"
(cd "$root" && CGO_ENABLED=0 go build -buildvcs=false -o "$tmp/checks" ./build/tools/checks)

export WINEPREFIX=$tmp/prefix WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
log "wineboot --init (fresh prefix, no display)"
wineboot --init >"$tmp/wineboot.log" 2>&1 || { cat "$tmp/wineboot.log" >&2; die "wineboot failed"; }
wineserver -w

sys32=$WINEPREFIX/drive_c/windows/system32
[[ -d "$sys32" ]] || die "wine prefix has no $sys32"
if [[ ! -f "$sys32/bcryptprimitives.dll" ]]; then
	log "building the bcryptprimitives.dll stub with mingw"
	x86_64-w64-mingw32-gcc -shared -O2 -o "$sys32/bcryptprimitives.dll" \
		"$here/wine/bcryptprimitives.c" "$here/wine/bcryptprimitives.def" -ladvapi32
fi

port=$("$tmp/checks" freeport)
key=smoke-wine-$RANDOM$RANDOM
log "starting $(basename "$exe") --headless on 127.0.0.1:$port"
CHATGPT_PORT=$port CHATGPT_API_KEY=$key wine "$exe" --headless >"$tmp/app.log" 2>&1 &
pid=$!

url=http://127.0.0.1:$port/v1/models
"$tmp/checks" http -pid "$pid" -timeout 90s -key "$key" -models "$url" || die "no model list from the exe under wine"
"$tmp/checks" http -pid "$pid" -timeout 10s -status 401 "$url" || die "/v1/models answered without the API key"
if ! kill -0 "$pid" 2>/dev/null; then die "the exe exited after answering"; fi
log "PASS: the Windows exe serves /v1/models under wine (total $((SECONDS - started))s)"
