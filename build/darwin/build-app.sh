#!/usr/bin/env bash
# Builds ChatGPT-to-API.app on a Mac (the tray needs cgo and the macOS SDK):
# a universal (arm64 + x86_64) binary, the bundle, a signature, and
# dist/chatgpt-to-api_<VERSION>_macos_universal.{zip,dmg}.
#
#   build/darwin/build-app.sh                    # VERSION from git describe
#   VERSION=1.2.3 build/darwin/build-app.sh
#
# Needs macOS with Xcode or the Command Line Tools (clang, lipo, codesign,
# ditto, hdiutil, iconutil, sips; xcrun notarytool and stapler for
# notarization) and Go.
#
# Signing (optional; without it the bundle gets an ad-hoc signature, which
# Apple Silicon requires, and users must approve it once in System Settings >
# Privacy & Security > "Open Anyway"):
#   MACOS_SIGN_IDENTITY   a "Developer ID Application: …" identity in the keychain
#                         (signs with the hardened runtime and a secure timestamp)
#   MACOS_KEYCHAIN        keychain holding it (optional)
# Notarization (only with MACOS_SIGN_IDENTITY), either an App Store Connect API key:
#   NOTARY_KEY_FILE (path to AuthKey_XXXX.p8), NOTARY_KEY_ID, NOTARY_ISSUER_ID
# or an Apple ID with an app-specific password:
#   NOTARY_APPLE_ID, NOTARY_TEAM_ID, NOTARY_PASSWORD
# Other: DIST (default <repo>/dist), SKIP_DMG=1 to make only the zip.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/build/darwin
app_name=ChatGPT-to-API
exe_name=chatgpt-to-api
dist=${DIST:-$root/dist}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build-app.sh: %s\n' "$*" >&2; exit 1; }

[[ "$(uname -s)" == Darwin ]] || die "run me on macOS (on Linux, use build/build.sh darwin-check)"
for cmd in go clang lipo codesign ditto; do
	command -v "$cmd" >/dev/null || die "missing $cmd (install Go and the Xcode Command Line Tools)"
done

version=${VERSION:-}
if [[ -z "$version" ]]; then
	version=$(git -C "$root" describe --tags --always --dirty 2>/dev/null || true)
	[[ "$version" =~ ^v?[0-9] ]] || version=0.0.0-dev
fi
version=${version#v}
[[ "$version" =~ ^[0-9A-Za-z][0-9A-Za-z.+_-]*$ ]] || die "VERSION '$version' may only contain letters, digits and . + _ -"
# Info.plist versions must be numeric (MAJOR.MINOR.PATCH).
if [[ "$version" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+) ]]; then
	short_version="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
else
	short_version=0.0.0
fi
bundle_version=${BUNDLE_VERSION:-$short_version}

work=$(mktemp -d "${TMPDIR:-/tmp}/$exe_name-app.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
mkdir -p "$dist"

# --- binaries ----------------------------------------------------------------
export MACOSX_DEPLOYMENT_TARGET=12.0 CGO_ENABLED=1
export CGO_CFLAGS="${CGO_CFLAGS:-} -mmacosx-version-min=12.0"
export CGO_LDFLAGS="${CGO_LDFLAGS:-} -mmacosx-version-min=12.0"
for arch in arm64 amd64; do
	log "go build darwin/$arch (cgo)"
	(cd "$root" && GOOS=darwin GOARCH=$arch go build -trimpath -buildvcs=false \
		-ldflags "-s -w -X main.version=$version" -o "$work/$exe_name-$arch" .)
done
log "lipo -create (arm64 + x86_64)"
lipo -create -output "$work/$exe_name" "$work/$exe_name-arm64" "$work/$exe_name-amd64"
lipo -verify_arch "$work/$exe_name" arm64 x86_64

# --- bundle --------------------------------------------------------------------
app=$work/stage/$app_name.app
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
install -m 755 "$work/$exe_name" "$app/Contents/MacOS/$exe_name"
sed -e "s|@VERSION@|$short_version|g" -e "s|@BUILD@|$bundle_version|g" "$here/Info.plist" >"$app/Contents/Info.plist"
plutil -lint "$app/Contents/Info.plist" >/dev/null
printf 'APPL????' >"$app/Contents/PkgInfo"

if [[ -f "$root/assets/app.icns" ]]; then
	cp "$root/assets/app.icns" "$app/Contents/Resources/app.icns"
else
	log "assets/app.icns missing: making one from assets/app-512.png with sips and iconutil"
	src=$root/assets/app-512.png
	[[ -f "$src" ]] || die "missing assets/app.icns and assets/app-512.png"
	iconset=$work/app.iconset
	mkdir -p "$iconset"
	for s in 16 32 128 256; do
		sips -z "$s" "$s" "$src" --out "$iconset/icon_${s}x${s}.png" >/dev/null
		sips -z "$((s * 2))" "$((s * 2))" "$src" --out "$iconset/icon_${s}x${s}@2x.png" >/dev/null
	done
	cp "$src" "$iconset/icon_512x512.png"
	iconutil -c icns -o "$app/Contents/Resources/app.icns" "$iconset"
fi

log "generating THIRD_PARTY_NOTICES"
(cd "$root" && go run ./build/tools/notices -pkg . -o "$work/THIRD_PARTY_NOTICES")
cp "$work/THIRD_PARTY_NOTICES" "$app/Contents/Resources/THIRD_PARTY_NOTICES"

# --- signing -------------------------------------------------------------------
sign() { # sign PATH...
	if [[ -n "${MACOS_SIGN_IDENTITY:-}" ]]; then
		# (no empty arrays: macOS's bash 3.2 calls them unbound under set -u)
		if [[ -n "${MACOS_KEYCHAIN:-}" ]]; then
			codesign --force --options runtime --timestamp --keychain "$MACOS_KEYCHAIN" --sign "$MACOS_SIGN_IDENTITY" "$@"
		else
			codesign --force --options runtime --timestamp --sign "$MACOS_SIGN_IDENTITY" "$@"
		fi
	else
		codesign --force --sign - "$@"
	fi
}
if [[ -n "${MACOS_SIGN_IDENTITY:-}" ]]; then
	log "signing with '$MACOS_SIGN_IDENTITY' (hardened runtime)"
else
	log "no MACOS_SIGN_IDENTITY: ad-hoc signature"
fi
sign "$app/Contents/MacOS/$exe_name"
sign "$app"
codesign --verify --deep --strict --verbose=2 "$app"

notarize() { # notarize FILE: submit, wait, fail unless Accepted
	local args
	if [[ -n "${NOTARY_KEY_FILE:-}" && -n "${NOTARY_KEY_ID:-}" && -n "${NOTARY_ISSUER_ID:-}" ]]; then
		args=(--key "$NOTARY_KEY_FILE" --key-id "$NOTARY_KEY_ID" --issuer "$NOTARY_ISSUER_ID")
	else
		args=(--apple-id "$NOTARY_APPLE_ID" --team-id "$NOTARY_TEAM_ID" --password "$NOTARY_PASSWORD")
	fi
	log "notarizing $(basename "$1") (this can take minutes)"
	xcrun notarytool submit "$1" "${args[@]}" --wait --timeout 30m --output-format plist >"$work/notary.plist"
	local status
	status=$(/usr/libexec/PlistBuddy -c 'Print :status' "$work/notary.plist" 2>/dev/null || echo unknown)
	if [[ "$status" != Accepted ]]; then
		local id
		id=$(/usr/libexec/PlistBuddy -c 'Print :id' "$work/notary.plist" 2>/dev/null || true)
		if [[ -n "$id" ]]; then xcrun notarytool log "$id" "${args[@]}" >&2 || true; fi
		die "notarization of $(basename "$1"): $status"
	fi
}
can_notarize=0
if [[ -n "${MACOS_SIGN_IDENTITY:-}" ]]; then
	if [[ -n "${NOTARY_KEY_FILE:-}" && -n "${NOTARY_KEY_ID:-}" && -n "${NOTARY_ISSUER_ID:-}" ]] ||
		[[ -n "${NOTARY_APPLE_ID:-}" && -n "${NOTARY_TEAM_ID:-}" && -n "${NOTARY_PASSWORD:-}" ]]; then
		can_notarize=1
	fi
fi
if ((can_notarize)); then
	ditto -c -k --sequesterRsrc --keepParent "$app" "$work/notarize.zip"
	notarize "$work/notarize.zip"
	xcrun stapler staple "$app"
	xcrun stapler validate "$app"
else
	log "not notarizing (needs MACOS_SIGN_IDENTITY and notary credentials)"
fi

# --- packages -----------------------------------------------------------------
name=${exe_name}_${version}_macos_universal
sed -e "s|@VERSION@|$version|g" "$here/README.txt" >"$work/stage/README.txt"
cp "$work/THIRD_PARTY_NOTICES" "$work/stage/THIRD_PARTY_NOTICES.txt"
rm -f "$dist/$name.zip" "$dist/$name.dmg"
ditto -c -k --sequesterRsrc "$work/stage" "$dist/$name.zip"
log "wrote dist/$name.zip"

if [[ "${SKIP_DMG:-}" != 1 ]]; then
	ln -s /Applications "$work/stage/Applications"
	hdiutil create -quiet -volname "$app_name" -srcfolder "$work/stage" -fs HFS+ -format UDZO -ov "$dist/$name.dmg"
	rm "$work/stage/Applications"
	if [[ -n "${MACOS_SIGN_IDENTITY:-}" ]]; then sign "$dist/$name.dmg"; fi
	if ((can_notarize)); then
		notarize "$dist/$name.dmg"
		xcrun stapler staple "$dist/$name.dmg"
	fi
	log "wrote dist/$name.dmg"
fi
(cd "$dist" && shasum -a 256 "$name".* >"${name}_SHA256SUMS")
