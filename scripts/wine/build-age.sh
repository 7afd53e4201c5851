#!/usr/bin/env bash
# Builds age and age-keygen for windows/amd64, at the version of filippo.io/age in go.mod,
# once, into a cache outside the clone, and prints the folder that holds age.exe and
# age-keygen.exe. Package tests that make escrow keys with age-keygen and open escrow files
# with age (builder) run them under Wine as they run Debian's on Linux: age ships for Windows.
#
#   scripts/wine/build-age.sh      -> /var/cache/travelkit-test/age-v1.3.2-windows-amd64
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(cd "$here/../.." && go list -m -f '{{.Version}}' filippo.io/age)
cache=${TRAVELKIT_TEST_CACHE:-/var/cache/travelkit-test}
dir="$cache/age-$version-windows-amd64"
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if [ ! -s "$dir/age.exe" ] || [ ! -s "$dir/age-keygen.exe" ]; then
	echo "wine/build-age.sh: building age $version for windows/amd64 (once; cached in $dir)" >&2
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# as build-restic.sh: go install cross-compiles into $GOPATH/bin/windows_amd64
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-trimpath GOPATH="$tmp" \
		GOMODCACHE="$(go env GOMODCACHE)" GOCACHE="$(go env GOCACHE)" \
		go install "filippo.io/age/cmd/age@$version" "filippo.io/age/cmd/age-keygen@$version"
	for p in age age-keygen; do
		mv "$tmp/bin/windows_amd64/$p.exe" "$dir/$p.exe.tmp"
		mv "$dir/$p.exe.tmp" "$dir/$p.exe"
	done
fi
echo "$dir"
