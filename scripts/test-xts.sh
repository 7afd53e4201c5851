#!/usr/bin/env bash
# test-xts.sh: what `go test ./...` on an amd64 machine cannot show about the XTS
# assembly (luks/internal/xts), run by `make test`:
#   1. the committed xts_amd64.s and xts_arm64.s are exactly what their generators in
#      luks/internal/xts/_asm write (avo for amd64; see _asm/arm64/main.go for arm64);
#   2. go vet's assembly checks for arm64 (frame offsets and argument names);
#   3. the arm64 assembly itself: the package's tests cross-compiled for arm64 and run
#      under qemu-user (qemu-aarch64-static -cpu max, which has the ARMv8 Cryptography
#      Extensions), checked against golang.org/x/crypto/xts at every LUKS2 sector size
#      and both key sizes. TRAVELKIT_XTS_WANT=armv8 makes the run fail if the binary
#      fell back to the portable path.
# scripts/install-test-deps.sh installs qemu-user-static.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=luks/internal/xts
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Generators. The first line names the command and its -out path: compare the rest.
go -C "$pkg/_asm" run ./amd64 -out "$tmp/xts_amd64.s"
go -C "$pkg/_asm" run ./arm64 -out "$tmp/xts_arm64.s"
for f in xts_amd64.s xts_arm64.s; do
	if ! cmp -s <(tail -n +2 "$pkg/$f") <(tail -n +2 "$tmp/$f"); then
		echo "test-xts: $pkg/$f is not what its generator writes; run go generate in $pkg" >&2
		diff <(tail -n +2 "$pkg/$f") <(tail -n +2 "$tmp/$f") | head -20 >&2
		exit 1
	fi
done

# 2. Assembly checks for arm64 (the build tags that drop the assembly too).
GOARCH=arm64 go vet "./$pkg"
GOARCH=arm64 go vet -tags xtsportable "./$pkg"

# 3. The arm64 assembly under qemu-user.
command -v qemu-aarch64-static >/dev/null || {
	echo "test-xts: qemu-aarch64-static is missing (scripts/install-test-deps.sh installs qemu-user-static)" >&2
	exit 1
}
GOARCH=arm64 CGO_ENABLED=0 go test -c -o "$tmp/xts-arm64.test" "./$pkg"
(cd "$pkg" && TRAVELKIT_XTS_WANT=armv8 qemu-aarch64-static -cpu max "$tmp/xts-arm64.test" \
	-test.run '^(TestPaths|TestKeysLayout|TestIEEE1619Vectors|TestSectorSizes|TestAgainstXCrypto|TestPathsAgree|TestLargeBuffers|TestConcurrent|TestMisuse|TestWipe)$' \
	-test.v) > "$tmp/qemu.log" 2>&1 || { cat "$tmp/qemu.log"; echo "test-xts: the arm64 assembly failed under qemu-aarch64-static" >&2; exit 1; }
grep -E '^(--- |ok|PASS|FAIL)' "$tmp/qemu.log" | grep -v '^--- PASS' || true
echo "test-xts: arm64 assembly (armv8) agrees with x/crypto/xts under qemu-aarch64-static -cpu max: $(grep -c '^--- PASS' "$tmp/qemu.log") tests passed"
