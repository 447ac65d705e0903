#!/usr/bin/env bash
# Builds the release artifacts and checks them. Exits non-zero on the first
# failure, and stops every process it started. CI runs it; so can you:
#
#   build/check.sh
#
# Checks:
#   - build/build.sh windows linux darwin-check succeeds (Windows zips, Linux
#     tarballs, darwin/amd64+arm64 compile with the tray stub, Info.plist keys);
#   - THIRD_PARTY_NOTICES at the repository root is up to date;
#   - each Windows zip holds exactly the exe, README.txt and THIRD_PARTY_NOTICES.txt;
#     the exe is PE32+ for its architecture with the GUI subsystem and carries
#     RT_ICON, RT_GROUP_ICON, RT_MANIFEST (PerMonitorV2, asInvoker) and RT_VERSION
#     (ProductName/FileDescription "ChatGPT-to-API") resources;
#   - each Linux tarball holds the static binary (with the version stamped),
#     a .desktop file that desktop-file-validate accepts, hicolor icons of the
#     right sizes, install.sh, uninstall.sh, README.txt and THIRD_PARTY_NOTICES;
#   - on the host architecture: the binary serves GET /v1/models headless with
#     the API key (and 401 without it); install.sh into a temporary HOME puts a
#     valid desktop entry, whose Exec is the installed binary, and the icons in
#     place; the installed binary serves headless; uninstall.sh removes it all;
#   - shellcheck on build/ scripts (when shellcheck is installed) and go vet on
#     build/tools.
#
# Debian packages it needs: desktop-file-utils file unzip; the lint of the
# scripts runs when the shellcheck package is installed. Environment: VERSION (default 0.0.0-check), ARCHES, DIST as in
# build.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
app=chatgpt-to-api
export VERSION=${VERSION:-0.0.0-check}
export DIST=${DIST:-$root/dist}
read -r -a arches <<<"${ARCHES:-amd64 arm64}"
export ARCHES="${arches[*]}"
started=$SECONDS
passed=0
tmp=
pids=()

log() { printf '==> [%3ds] %s\n' "$((SECONDS - started))" "$*" >&2; }
pass() { passed=$((passed + 1)); printf 'PASS %s\n' "$*"; }
fail() {
	printf 'FAIL %s\n' "$*" >&2
	printf 'checks: %d passed, 1 failed\n' "$passed"
	exit 1
}

cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	if [[ -n "$tmp" ]]; then rm -rf -- "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

missing=()
for cmd in go desktop-file-validate file unzip tar; do
	command -v "$cmd" >/dev/null || missing+=("$cmd")
done
if ((${#missing[@]})); then
	fail "missing tools: ${missing[*]} (apt-get install --no-install-recommends desktop-file-utils file unzip)"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/$app-check.XXXXXX")

# --- build -----------------------------------------------------------------
log "build/build.sh windows linux darwin-check (VERSION=$VERSION, ARCHES=$ARCHES)"
"$root/build/build.sh" windows linux darwin-check || fail "build/build.sh"
pass "build: windows and linux archives for ${arches[*]}; darwin/amd64+arm64 compile; Info.plist"

(cd "$root" && go vet ./build/tools/...) || fail "go vet ./build/tools/..."
(cd "$root" && CGO_ENABLED=0 go build -buildvcs=false -o "$tmp/checks" ./build/tools/checks) || fail "building build/tools/checks"
pass "go vet build/tools"

if command -v shellcheck >/dev/null; then
	mapfile -t scripts < <(find "$root/build" -name '*.sh' -not -path '*/.bin/*' | sort)
	shellcheck "${scripts[@]}" || fail "shellcheck"
	pass "shellcheck: ${#scripts[@]} scripts"
else
	log "shellcheck not installed; skipping the lint of build/ scripts"
fi

# --- helpers ---------------------------------------------------------------
# serve NAME BINARY [ARGS...]: start BINARY --headless with a throw-away
# HOME and XDG dirs, no D-Bus and no display, then check /v1/models.
serve() {
	local name=$1 bin=$2
	shift 2
	local home=$tmp/run-$name port key pid
	mkdir -p "$home"
	port=$("$tmp/checks" freeport)
	key=check-$RANDOM$RANDOM
	env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY -u WAYLAND_DISPLAY \
		HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache" \
		XDG_DATA_HOME="$home/.local/share" XDG_RUNTIME_DIR="$home/run" \
		CHATGPT_PORT="$port" CHATGPT_API_KEY="$key" \
		"$bin" "$@" --headless >"$tmp/$name.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	local url=http://127.0.0.1:$port/v1/models
	if ! "$tmp/checks" http -pid "$pid" -timeout 30s -key "$key" -models "$url"; then
		tail -n 30 "$tmp/$name.log" >&2 || true
		fail "$name: GET /v1/models with the API key"
	fi
	"$tmp/checks" http -pid "$pid" -timeout 5s -status 401 "$url" || fail "$name: GET /v1/models without a key must be 401"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pass "$name: serves /v1/models headless on 127.0.0.1:$port (401 without the key)"
}

# same_set NAME ACTUAL-LIST EXPECTED...: the newline-separated ACTUAL-LIST has
# exactly the EXPECTED entries.
same_set() {
	local name=$1 actual=$2
	shift 2
	local expected
	expected=$(printf '%s\n' "$@" | sort)
	if [[ "$(sort <<<"$actual")" != "$expected" ]]; then
		diff <(echo "$expected") <(sort <<<"$actual") >&2 || true
		fail "$name: unexpected contents (- expected, + actual)"
	fi
}

ack='This product includes software developed by Bogdan Finn'
sizes=(16 22 24 32 48 64 128 256 512)
host_arch=$(go env GOHOSTARCH)

# --- notices ---------------------------------------------------------------
notices=$DIST/${app}_${VERSION}_linux_${arches[0]}/THIRD_PARTY_NOTICES
cmp -s "$notices" "$root/THIRD_PARTY_NOTICES" ||
	fail "THIRD_PARTY_NOTICES at the repository root is missing or stale: run build/build.sh notices"
grep -q 'All advertising materials mentioning features' "$notices" || fail "notices lack tls-client's BSD-4-Clause text"
grep -q "$ack" "$notices" || fail "notices lack the tls-client acknowledgement"
grep -q 'fhttp ships no LICENSE file' "$notices" || fail "notices lack the fhttp statement"
pass "THIRD_PARTY_NOTICES up to date (tls-client BSD-4-Clause with acknowledgement, fhttp under Go's licence)"

# --- windows ---------------------------------------------------------------
declare -A file_arch=([amd64]=x86-64 [arm64]=Aarch64)
for arch in "${arches[@]}"; do
	name=${app}_${VERSION}_windows_$arch
	zip=$DIST/$name.zip
	out=$tmp/$name
	unzip -q "$zip" -d "$out" || fail "$name.zip does not unzip"
	same_set "$name.zip" "$(cd "$out" && find . -type f | sed 's|^\./||')" \
		ChatGPT-to-API.exe README.txt THIRD_PARTY_NOTICES.txt
	exe=$out/ChatGPT-to-API.exe
	desc=$(file -b "$exe")
	[[ "$desc" == "PE32+ executable (GUI) ${file_arch[$arch]}"* ]] || fail "$name: file(1) says: $desc"
	"$tmp/checks" pe -arch "$arch" "$exe" || fail "$name: PE header or resources"
	grep -q "$ack" "$out/README.txt" || fail "$name: README.txt lacks the tls-client acknowledgement"
	cmp -s "$out/THIRD_PARTY_NOTICES.txt" "$notices" || fail "$name: THIRD_PARTY_NOTICES.txt differs"
	pass "$name.zip: PE32+ GUI exe with icon, manifest and version resources; README and notices"
done

# --- linux -----------------------------------------------------------------
declare -A elf_arch=([amd64]=x86-64 [arm64]="ARM aarch64")
for arch in "${arches[@]}"; do
	name=${app}_${VERSION}_linux_$arch
	out=$tmp/$name-x
	mkdir -p "$out"
	tar -xzf "$DIST/$name.tar.gz" -C "$out" || fail "$name.tar.gz does not extract"
	expected=("$app" "$app.desktop" install.sh uninstall.sh README.txt THIRD_PARTY_NOTICES)
	for s in "${sizes[@]}"; do expected+=("icons/hicolor/${s}x$s/apps/$app.png"); done
	same_set "$name.tar.gz" "$(cd "$out/$name" && find . -type f | sed 's|^\./||')" "${expected[@]}"
	d=$out/$name
	desc=$(file -b "$d/$app")
	[[ "$desc" == "ELF 64-bit LSB executable, ${elf_arch[$arch]},"*"statically linked"* ]] || fail "$name: file(1) says: $desc"
	[[ -x "$d/$app" && -x "$d/install.sh" && -x "$d/uninstall.sh" ]] || fail "$name: binary or scripts not executable"
	grep -aqF -- "$VERSION" "$d/$app" || fail "$name: version $VERSION is not stamped into the binary (-X main.version)"
	desktop-file-validate "$d/$app.desktop" || fail "$name: desktop-file-validate $app.desktop"
	for s in "${sizes[@]}"; do
		desc=$(file -b "$d/icons/hicolor/${s}x$s/apps/$app.png")
		[[ "$desc" == "PNG image data, $s x $s,"* ]] || fail "$name: icon ${s}x$s is: $desc"
	done
	grep -q "$ack" "$d/README.txt" || fail "$name: README.txt lacks the tls-client acknowledgement"
	cmp -s "$d/THIRD_PARTY_NOTICES" "$notices" || fail "$name: THIRD_PARTY_NOTICES differs"
	pass "$name.tar.gz: static binary, valid .desktop, ${#sizes[@]} icon sizes, scripts, README, notices"

	if [[ "$arch" != "$host_arch" ]]; then
		continue
	fi
	serve "$name-tarball" "$d/$app"

	# install.sh into a temporary HOME, as a user would run it.
	home=$tmp/home-$arch
	mkdir -p "$home"
	env -u PREFIX HOME="$home" PATH="$PATH" bash "$d/install.sh" >"$tmp/install.log" 2>&1 ||
		{ cat "$tmp/install.log" >&2; fail "$name: install.sh"; }
	inst_bin=$home/.local/bin/$app
	inst_desktop=$home/.local/share/applications/$app.desktop
	if [[ ! -x "$inst_bin" ]] || ! cmp -s "$inst_bin" "$d/$app"; then fail "$name: install.sh did not install the binary"; fi
	[[ -f "$inst_desktop" ]] || fail "$name: install.sh did not install the desktop entry"
	desktop-file-validate "$inst_desktop" || fail "$name: installed desktop entry does not validate"
	exec_line=$(grep '^Exec=' "$inst_desktop")
	[[ "$exec_line" == "Exec=$inst_bin" ]] || fail "$name: installed $exec_line, want Exec=$inst_bin"
	grep -qx 'Icon=chatgpt-to-api' "$inst_desktop" || fail "$name: installed entry has no Icon=chatgpt-to-api"
	for s in "${sizes[@]}"; do
		cmp -s "$home/.local/share/icons/hicolor/${s}x$s/apps/$app.png" "$d/icons/hicolor/${s}x$s/apps/$app.png" ||
			fail "$name: icon ${s}x$s not installed"
	done
	[[ -x "$home/.local/share/$app/uninstall.sh" ]] || fail "$name: uninstall.sh not installed"
	pass "$name: install.sh into a temporary HOME: binary, valid desktop entry (Exec=$inst_bin), ${#sizes[@]} icons"
	serve "$name-installed" "${exec_line#Exec=}"

	# A HOME with a space and a dollar sign: the Exec value must be quoted.
	home2="$tmp/odd home \$x"
	mkdir -p "$home2"
	env -u PREFIX HOME="$home2" PATH="$PATH" bash "$d/install.sh" >"$tmp/install2.log" 2>&1 ||
		{ cat "$tmp/install2.log" >&2; fail "$name: install.sh with an odd HOME"; }
	desktop-file-validate "$home2/.local/share/applications/$app.desktop" ||
		fail "$name: desktop entry for a HOME with a space does not validate"
	pass "$name: install.sh quotes Exec for a HOME with spaces and \$"

	env -u PREFIX HOME="$home" PATH="$PATH" bash "$home/.local/share/$app/uninstall.sh" >"$tmp/uninstall.log" 2>&1 ||
		{ cat "$tmp/uninstall.log" >&2; fail "$name: uninstall.sh"; }
	left=$(find "$home/.local" -name "$app*" | sort)
	[[ -z "$left" ]] || fail "$name: uninstall.sh left: $left"
	pass "$name: uninstall.sh removed everything install.sh put in place"
done

log "done"
printf 'checks: %d passed, 0 failed\n' "$passed"
