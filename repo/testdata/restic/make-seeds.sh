#!/usr/bin/env bash
# Regenerates the restic-made seed files of the repo fuzz targets (FuzzConfig*,
# FuzzLock*, FuzzBlob*): a format-1 and a format-2 repository made by the installed
# restic (password "fixture-password"), each with its config, its key file, the
# lock file restic holds while a backup runs, and one pack file. Not run by the tests;
# they use what it leaves here (commit the output). Needs restic.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null || true; rm -rf "$tmp"' EXIT
export RESTIC_PASSWORD=fixture-password
mkdir -p "$tmp/data/sub"
printf 'hello from restic\n' >"$tmp/data/hello.txt"
# compressible text, so that the format-2 pack holds zstd-compressed blobs
for i in $(seq 1 400); do printf 'line %d of a text that repeats itself\n' "$i"; done >"$tmp/data/sub/text.txt"
for v in 1 2; do
	r="$tmp/repo-v$v"
	restic init -q --repository-version "$v" -r "$r"
	restic backup -q --host fixture -r "$r" "$tmp/data" >/dev/null
	# a lock file exactly as restic writes it: held while a backup reads stdin
	mkfifo "$tmp/fifo$v"
	restic backup -q --host fixture -r "$r" --stdin --stdin-filename held <"$tmp/fifo$v" >/dev/null &
	pid=$!
	exec 3>"$tmp/fifo$v"
	for _ in $(seq 1 100); do
		[ -n "$(ls "$r/locks")" ] && break
		sleep 0.1
	done
	out="v$v"
	rm -rf "$out"
	mkdir -p "$out/keys" "$out/locks" "$out/data"
	cp "$r/config" "$out/config"
	cp "$r"/keys/* "$out/keys/"
	cp "$r"/locks/* "$out/locks/"
	exec 3>&-
	wait "$pid" || true # an empty stdin makes no snapshot: only the lock was wanted
	# the largest pack: the one with the file contents (trees are in smaller packs)
	p=$(find "$r/data" -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2)
	cp "$p" "$out/data/"
	chmod -R u+w "$out"
done
ls -lR .
