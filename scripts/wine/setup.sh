#!/usr/bin/env bash
# Prepares a Wine prefix that runs Go 1.24+ windows/amd64 programs on Debian 12.
# Idempotent and quick when everything is in place: the tests call it before they use Wine.
#
#   scripts/wine/setup.sh                 prefix at $WINEPREFIX, or /var/cache/travelkit-test/wine
#   eval "$(scripts/wine/setup.sh --env)" same, then prints the environment to use
#   scripts/wine/setup.sh --lines         same, the environment as KEY=VALUE lines (for programs)
#
# What it does, each step only when needed:
#   - apt-get installs wine64 and the mingw-w64 C compiler (under flock /tmp/apt.lock, as
#     scripts/install-test-deps.sh does), so two installers never collide on dpkg's lock;
#   - makes the prefix (wineboot), under flock "$WINEPREFIX.lock", so parallel tests wait for
#     one another instead of booting the same prefix twice;
#   - builds bcryptprimitives.dll from bcryptprimitives.c beside this script and puts it into
#     the prefix: Debian 12's Wine 8.0 lacks it and every Go 1.24+ Windows program needs its
#     ProcessPrng at start. Real Windows 10 and later ship it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export WINEPREFIX=${WINEPREFIX:-/var/cache/travelkit-test/wine}
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n" WINEARCH=win64
unset DISPLAY

wine_bin() {
	# the 64-bit loader itself: /usr/bin/wine is a wrapper that warns about a missing wine32
	for w in /usr/lib/wine/wine64 /usr/lib64/wine/wine64 "$(command -v wine64 || true)" "$(command -v wine || true)"; do
		[ -n "$w" ] && [ -x "$w" ] && { echo "$w"; return; }
	done
	return 1
}

if ! wine_bin >/dev/null || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "wine/setup.sh: need root to apt-get install wine64 gcc-mingw-w64-x86-64-win32" >&2
		exit 1
	fi
	echo "wine/setup.sh: installing wine64 and mingw-w64 (Debian packages)" >&2
	flock /tmp/apt.lock bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wine wine64 gcc-mingw-w64-x86-64-win32 >/dev/null'
fi
WINE=$(wine_bin)

mkdir -p "$(dirname "$WINEPREFIX")"
(
	flock 9
	dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
	stamp="$WINEPREFIX/.travelkit-bcryptprimitives.sha256"
	want=$(sha256sum "$here/bcryptprimitives.c" | cut -d' ' -f1)
	if [ ! -f "$WINEPREFIX/system.reg" ] || [ ! -d "$WINEPREFIX/drive_c/windows/system32" ]; then
		echo "wine/setup.sh: making the Wine prefix $WINEPREFIX" >&2
		"$WINE" wineboot -i >/dev/null 2>&1 || true
		# wineboot returns before the registry is written; wait for the prefix's server to finish
		"$(dirname "$WINE")/wineserver" -w 2>/dev/null || wineserver -w 2>/dev/null || true
	fi
	if [ ! -f "$dll" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
		out=$(mktemp -d)
		x86_64-w64-mingw32-gcc -shared -O2 -o "$out/bcryptprimitives.dll" "$here/bcryptprimitives.c" -Wl,--kill-at
		cp "$out/bcryptprimitives.dll" "$dll"
		rm -rf "$out"
		echo "$want" >"$stamp"
	fi
) 9>"$WINEPREFIX.lock"

# The wineserver is left to Debian's wrapper, which ends it with the prefix's last program
# (-p0). A persistent one (-p60) was tried: Wine's own services.exe, winedevice.exe, ...,
# started by the first test program with that program's stdout, then held the test's pipe
# open for the 60 s, and every package run waited for it.

case "${1:-}" in
--env)
	printf 'export WINEPREFIX=%q WINEDEBUG=-all WINEDLLOVERRIDES=%q WINEARCH=win64 WINE=%q\n' \
		"$WINEPREFIX" "$WINEDLLOVERRIDES" "$WINE"
	;;
--lines)
	printf 'WINEPREFIX=%s\nWINEDEBUG=-all\nWINEDLLOVERRIDES=%s\nWINEARCH=win64\nWINE=%s\n' \
		"$WINEPREFIX" "$WINEDLLOVERRIDES" "$WINE"
	;;
esac
