#!/usr/bin/env bash
# Builds one package's tests for windows/amd64 and runs them under Wine in the package's folder.
#   scripts/wine/gotest.sh ./repo -test.run TestRestore -test.v
# restic.exe, age.exe and age-keygen.exe are on Wine's PATH. The prefix is $WINEPREFIX, default /tmp/wine-$USER (scripts/wine/setup.sh prepares it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pkg=${1:?usage: gotest.sh ./PKG [test flags]}
shift
export WINEPREFIX=${WINEPREFIX:-/tmp/wine-${USER:-$(id -un)}}
eval "$("$here/setup.sh" --env)"
restic=$("$here/build-restic.sh")
age=$("$here/build-age.sh")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
name=$(basename "$pkg").test.exe
(cd "$root" && GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -tags wine -ldflags=-checklinkname=0 -o "$out/$name" "$pkg")
cd "$root/$pkg"
TRAVELKIT_WINE=1 WINEPATH="Z:$(dirname "$restic" | tr / '\\');Z:$(echo "$age" | tr / '\\')" "$WINE" "$out/$name" "$@"
