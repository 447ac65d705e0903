#!/usr/bin/env bash
# ChatGPT-to-API release builds. One entry point:
#
#   build/build.sh [TARGET...]        TARGET: windows linux darwin-check notices all clean
#
#   windows       dist/chatgpt-to-api_<VERSION>_windows_{amd64,arm64}.zip
#                 (ChatGPT-to-API.exe with icon, manifest and version info; README.txt;
#                 THIRD_PARTY_NOTICES.txt)
#   linux         dist/chatgpt-to-api_<VERSION>_linux_{amd64,arm64}.tar.gz
#                 (binary, .desktop, hicolor icons, install.sh, uninstall.sh, README.txt,
#                 THIRD_PARTY_NOTICES)
#   darwin-check  compile-checks darwin/amd64+arm64 with CGO_ENABLED=0 (tray stub) and
#                 renders and checks Info.plist; the real .app is built on a Mac by
#                 build/darwin/build-app.sh
#   notices       regenerates THIRD_PARTY_NOTICES at the repository root
#   all           windows linux darwin-check (the default)
#   clean         removes dist/ and build/.bin/
#
# Environment:
#   VERSION   version to stamp (default: the git tag, else 0.0.0-dev+<commit>); a leading "v" is dropped
#   ARCHES    architectures for windows and linux (default: "amd64 arm64")
#   DIST      output directory (default: <repo>/dist)
#   SOURCE_DATE_EPOCH  timestamp inside the archives (default: 2000-01-01)
#
# Needs: Go (the go.mod version), and network access to the Go module proxy on first use
# (modules and the pinned go-winres). Nothing else: no ImageMagick, zip or cgo toolchain.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build
app=chatgpt-to-api
winres_pkg=github.com/tc-hib/go-winres
winres_version=v0.3.3

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

version=${VERSION:-}
if [[ -z "$version" ]]; then
	# A tag gives its version; an untagged tree gives 0.0.0-dev+<commit>.
	version=$(git -C "$root" describe --tags --dirty 2>/dev/null || true)
	if ! [[ "$version" =~ ^v?[0-9] ]]; then
		commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || true)
		version=0.0.0-dev${commit:++$commit}
	fi
fi
version=${version#v}
[[ "$version" =~ ^[0-9A-Za-z][0-9A-Za-z.+_-]*$ ]] || die "VERSION '$version' may only contain letters, digits and . + _ -"
read -r -a arches <<<"${ARCHES:-amd64 arm64}"
dist=${DIST:-$root/dist}

# numeric_version: the leading MAJOR.MINOR.PATCH of VERSION (0.0.0 if none),
# as Windows version resources and Info.plist need.
numeric_version() {
	if [[ "$version" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+) ]]; then
		printf '%d.%d.%d' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}"
	elif [[ "$version" =~ ^([0-9]+)\.([0-9]+) ]]; then
		printf '%d.%d.0' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
	else
		printf '0.0.0'
	fi
}

# build_number: the fourth field of the Windows version. A development
# build (0.0.0-dev+<commit>) counts the commits, so its exe never reads
# 0.0.0.0; a tag plus commits (1.2.3-4-gabc) gives those commits; a tag, 0.
build_number() {
	local n=0
	if [[ "$version" =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?-([0-9]+)-g ]]; then
		n=${BASH_REMATCH[2]}
	elif [[ "$(numeric_version)" == 0.0.0 ]]; then
		n=$(git -C "$root" rev-list --count HEAD 2>/dev/null || echo 1)
		[[ "$n" =~ ^[0-9]+$ && "$n" -gt 0 ]] || n=1
	fi
	printf '%d' $((n > 65535 ? 65535 : n))
}

ldflags() { # ldflags EXTRA...
	printf '%s' "-s -w -X main.version=$version${1:+ $*}"
}

work=
cleanup() { if [[ -n "$work" ]]; then rm -rf -- "$work"; fi; }
trap cleanup EXIT

# prepare: a private snapshot of the source tree (so generated .syso files
# never land in the working tree that other people build from) and the
# helper tools, built for the host.
prepare() {
	[[ -n "$work" ]] && return
	work=$(mktemp -d "${TMPDIR:-/tmp}/$app-build.XXXXXX")
	[[ -f "$root/main.go" ]] || die "no main.go at $root: nothing to build yet"
	mkdir -p "$work/src" "$work/bin" "$dist"
	tar -C "$root" --exclude=./.git --exclude=./dist --exclude=./build/.bin \
		--exclude='./*.syso' -cf - . | tar -C "$work/src" -xf -
	log "building helper tools"
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$work/bin/" ./build/tools/...)
	log "generating THIRD_PARTY_NOTICES"
	(cd "$work/src" && "$work/bin/notices" -pkg . -o "$work/THIRD_PARTY_NOTICES") ||
		die "generating THIRD_PARTY_NOTICES failed"
}

# gobuild GOOS GOARCH OUT [EXTRA-LDFLAGS...]
gobuild() {
	local goos=$1 goarch=$2 out=$3
	shift 3
	log "go build $goos/$goarch -> ${out#"$dist"/}"
	(cd "$work/src" && CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch \
		go build -trimpath -buildvcs=false -ldflags "$(ldflags "$@")" -o "$out" .)
}

# go_winres: the pinned go-winres, installed into build/.bin on first use.
go_winres() {
	local bin=$build/.bin/go-winres
	local info=
	if [[ -x "$bin" ]]; then info=$(go version -m "$bin" 2>/dev/null || true); fi
	if [[ ! "$info" =~ mod[[:space:]]+${winres_pkg}[[:space:]]+${winres_version}[[:space:]] ]]; then
		log "installing $winres_pkg@$winres_version into build/.bin"
		GOBIN=$build/.bin CGO_ENABLED=0 go install "$winres_pkg@$winres_version"
	fi
	"$bin" "$@"
}

target_windows() {
	prepare
	local icon=$root/assets/app.ico
	[[ -f "$icon" ]] || die "missing $icon (the Windows icon)"
	local winver
	winver=$(numeric_version).$(build_number)
	# Resources: build/windows/winres.json next to a copy of the icon (go-winres
	# resolves paths relative to the JSON file), with the version filled in.
	# go-winres writes rsrc_windows_<arch>.syso into the snapshot, where go
	# build links it.
	mkdir -p "$work/winres"
	cp "$icon" "$work/winres/app.ico"
	sed -e 's|"../../assets/app.ico"|"app.ico"|' -e "s|@VERSION@|$version|g" -e "s|@WINVER@|$winver|g" \
		"$build/windows/winres.json" >"$work/winres/winres.json"
	local arch_csv
	arch_csv=$(IFS=,; echo "${arches[*]}")
	log "go-winres make ($arch_csv, version $winver)"
	go_winres make --in "$work/winres/winres.json" --arch "$arch_csv" --out "$work/src/rsrc" \
		--product-version "$winver" --file-version "$winver"
	local arch name stage
	for arch in "${arches[@]}"; do
		name=${app}_${version}_windows_$arch
		stage=$dist/$name
		rm -rf -- "$stage" "$dist/$name.zip"
		mkdir -p "$stage"
		gobuild windows "$arch" "$stage/ChatGPT-to-API.exe" -H windowsgui
		sed -e "s|@VERSION@|$version|g" -e "s|@ARCH@|$arch|g" "$build/windows/README.txt" >"$stage/README.txt"
		cp "$work/THIRD_PARTY_NOTICES" "$stage/THIRD_PARTY_NOTICES.txt"
		"$work/bin/pack" -C "$stage" "$dist/$name.zip"
		log "wrote dist/$name.zip"
	done
	rm -f "$work"/src/rsrc_windows_*.syso
}

target_linux() {
	prepare
	local src_icon=$root/assets/app-512.png
	[[ -f "$src_icon" ]] || src_icon=$root/assets/app-256.png
	[[ -f "$src_icon" ]] || die "missing assets/app-512.png and assets/app-256.png"
	local arch name stage
	for arch in "${arches[@]}"; do
		name=${app}_${version}_linux_$arch
		stage=$dist/$name
		rm -rf -- "$stage" "$dist/$name.tar.gz"
		mkdir -p "$stage"
		gobuild linux "$arch" "$stage/$app"
		"$work/bin/icongen" -src "$src_icon" -out "$stage/icons/hicolor" -name "$app"
		cp "$build/linux/$app.desktop" "$stage/"
		install -m 755 "$build/linux/install.sh" "$build/linux/uninstall.sh" "$stage/"
		sed -e "s|@VERSION@|$version|g" -e "s|@ARCH@|$arch|g" "$build/linux/README.txt" >"$stage/README.txt"
		cp "$work/THIRD_PARTY_NOTICES" "$stage/THIRD_PARTY_NOTICES"
		"$work/bin/pack" -C "$stage" -prefix "$name/" "$dist/$name.tar.gz"
		log "wrote dist/$name.tar.gz"
	done
}

target_darwin_check() {
	prepare
	local arch
	for arch in amd64 arm64; do
		log "compile-check darwin/$arch (CGO_ENABLED=0, tray stub)"
		(cd "$work/src" && CGO_ENABLED=0 GOOS=darwin GOARCH=$arch \
			go build -trimpath -buildvcs=false -ldflags "$(ldflags)" -o "$work/darwin-$arch" .)
	done
	local nv
	nv=$(numeric_version)
	sed -e "s|@VERSION@|$nv|g" -e "s|@BUILD@|$nv|g" "$build/darwin/Info.plist" >"$work/Info.plist"
	"$work/bin/checks" plist "$work/Info.plist"
}

target_notices() {
	prepare
	cp "$work/THIRD_PARTY_NOTICES" "$root/THIRD_PARTY_NOTICES"
	log "wrote THIRD_PARTY_NOTICES"
}

checksums() {
	local files=()
	local f
	for f in "$dist/${app}_${version}"_*.zip "$dist/${app}_${version}"_*.tar.gz; do
		if [[ -f "$f" ]]; then files+=("$(basename "$f")"); fi
	done
	if ((${#files[@]})); then
		(cd "$dist" && sha256sum "${files[@]}" >"${app}_${version}_SHA256SUMS")
	fi
}

main() {
	local targets=("$@")
	((${#targets[@]})) || targets=(all)
	local t
	for t in "${targets[@]}"; do
		case "$t" in
			windows) target_windows ;;
			linux) target_linux ;;
			darwin-check) target_darwin_check ;;
			notices) target_notices ;;
			all) target_windows; target_linux; target_darwin_check ;;
			clean) rm -rf -- "$dist" "$build/.bin"; log "removed dist/ and build/.bin/" ;;
			-h | --help | help) sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
			*) die "unknown target '$t' (try --help)" ;;
		esac
	done
	checksums
}

main "$@"
