#!/usr/bin/env bash
# Builds the servers the remote tests run that Debian does not package, pinned, from the Go
# module proxy, into a cache outside the clone (built once per machine):
#   versitygw (an S3 server over a folder)  ->  $CACHE/versitygw-$VERSITYGW_VERSION/versitygw
# The version is also in internal/testservers (VersityGWVersion); keep them equal.
# sshd (openssh-server) and rclone (rclone serve restic: restic's REST protocol) come from
# Debian, through install-test-deps.sh.
set -euo pipefail
CACHE=${TRAVELKIT_TEST_CACHE:-/var/cache/travelkit-test}
VERSITYGW_VERSION=v1.8.0
GO=${GO:-go}

out=$CACHE/versitygw-$VERSITYGW_VERSION/versitygw
mkdir -p "$(dirname "$out")"
# one build at a time on a machine (two clones, CI beside a developer): the second waits
# for the first and then finds the binary; it appears whole, by one rename from a folder
# of this run's own in the cache (same file system)
exec 9>"$(dirname "$out")/.lock"
flock 9
if [ ! -x "$out" ]; then
	echo "build-test-servers: building versitygw $VERSITYGW_VERSION into $out (once; about 4 CPU-minutes)"
	tmp=$(mktemp -d "$CACHE/build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# outside any module, so that the project's go.mod plays no part
	(cd "$tmp" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOBIN="$tmp/bin" \
		"$GO" install -trimpath -ldflags='-s -w' "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION")
	mv "$tmp/bin/versitygw" "$out"
fi
