#!/usr/bin/env bash
# Builds restic for windows/amd64 from the Go module proxy at a pinned version, once, into a
# cache outside the clone, and prints the path of restic.exe. The Wine tests run it beside
# travelkit.exe: each restores what the other backed up from C:\.
#
#   scripts/wine/build-restic.sh      -> /var/cache/travelkit-test/restic-v0.18.1-windows-amd64/restic.exe
set -euo pipefail
version=${RESTIC_WINDOWS_VERSION:-v0.18.1}
cache=${TRAVELKIT_TEST_CACHE:-/var/cache/travelkit-test}
dir="$cache/restic-$version-windows-amd64"
out="$dir/restic.exe"
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if [ ! -s "$out" ]; then
	echo "wine/build-restic.sh: building restic $version for windows/amd64 (once; cached in $dir)" >&2
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# go install cross-compiles into $GOPATH/bin/windows_amd64 (GOBIN cannot be set for that);
	# the module cache and the build cache stay the usual ones
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-trimpath GOPATH="$tmp" \
		GOMODCACHE="$(go env GOMODCACHE)" GOCACHE="$(go env GOCACHE)" \
		go install "github.com/restic/restic/cmd/restic@$version"
	mv "$tmp/bin/windows_amd64/restic.exe" "$out.tmp"
	mv "$out.tmp" "$out"
fi
echo "$out"
