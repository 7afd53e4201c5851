#!/bin/bash
# bench-copy.sh [SIZE] -- travelkit copy beside `restic copy` and `rclone copy`, in one run,
# to each kind of server on 127.0.0.1: SFTP (Debian's sshd), S3 (versitygw, built by
# build-test-servers.sh) and restic's REST protocol (rclone serve restic). A kit is backed
# up from the shared home-folder dataset (SIZE, default 1G), copied to each server (first
# copy), then the dataset is changed by ~5 % (mutate.py), backed up again and copied again
# (incremental). The peers start from a plain folder holding the same repository.
# Per step: wall seconds, the client's CPU seconds (user+sys) and peak RSS (/usr/bin/time -v),
# and the server's CPU seconds (sshd with its sessions and their sha256sum/md5sum children,
# versitygw, rclone serve: /proc/PID/stat before and after, children included). All run on
# this machine, so on a loaded machine CPU seconds (client + server) compare better than wall.
# Then PAIRS paired runs of travelkit and rclone (the faster peer), in turns (A B, B A, ...),
# each from the same destination state (emptied for a first copy; the state after the first
# copy put back for an incremental one), and the ratio pair by pair.
# Not a test: it prints a comparison. Needs root (sshd).
#   env: BENCH_DIR (default /tmp/travelkit-bench), SEED, KEEP=1 keeps the work folder,
#        PAIRS (default 2), PROFILE=1 writes travelkit's CPU profiles next to the results
set -euo pipefail
SIZE=${1:-1G}
SEED=${SEED:-42}
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
BENCH=${BENCH:-$(cd "$ROOT/../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}
BENCH_DIR=${BENCH_DIR:-/tmp/travelkit-bench}
CACHE=${TRAVELKIT_TEST_CACHE:-/var/cache/travelkit-test}
VGW=$CACHE/versitygw-v1.8.0/versitygw
W=$BENCH_DIR/copy-$SIZE
mkdir -p "$BENCH_DIR"
rm -rf "$W"; mkdir -p "$W"
[ -x "$VGW" ] || "$ROOT/scripts/build-test-servers.sh"
for t in restic rclone /usr/sbin/sshd /usr/bin/time; do command -v "$t" >/dev/null || { echo "bench-copy: $t is missing (scripts/install-test-deps.sh)" >&2; exit 1; }; done

TK=$W/travelkit
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$TK" ./cmd/travelkit)
DS=$BENCH_DIR/ds-$SIZE-s$SEED
[ -d "$DS" ] || "$BENCH/mkdata.sh" "$SIZE" "$DS" "$SEED"
SRC=$W/home
cp -a "$DS" "$SRC"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 -- "-$p" 2>/dev/null || kill -9 "$p" 2>/dev/null || true; done; [ "${KEEP:-0}" = 1 ] || rm -rf "$W"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() { for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.1; done; echo "no server on $1" >&2; exit 1; }

# --- servers ---
SSH_PORT=$(port); S3_PORT=$(port); REST_PORT=$(port)
mkdir -p "$W/sshd" "$W/srv" "$W/s3/kits" "$W/rest" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$W/sshd/host" && ssh-keygen -q -t ed25519 -N '' -f "$W/sshd/user"
cp "$W/sshd/user.pub" "$W/sshd/authorized_keys"
HOSTKEY=$(ssh-keygen -lf "$W/sshd/host.pub" | awk '{print $2}')
echo "[127.0.0.1]:$SSH_PORT $(cat "$W/sshd/host.pub")" > "$W/sshd/known_hosts"
cat > "$W/sshd/config" <<CFG
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $W/sshd/host
PidFile $W/sshd/pid
AuthorizedKeysFile $W/sshd/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel ERROR
CFG
setsid /usr/sbin/sshd -D -e -f "$W/sshd/config" 2>"$W/sshd.log" & PIDS+=($!)
export AWS_ACCESS_KEY_ID=bench$RANDOM AWS_SECRET_ACCESS_KEY=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
ROOT_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID ROOT_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY setsid "$VGW" --port 127.0.0.1:$S3_PORT --quiet posix --nometa "$W/s3" 2>"$W/s3.log" & PIDS+=($!)
RCLONE_CONFIG=/dev/null setsid rclone serve restic --addr 127.0.0.1:$REST_PORT "$W/rest" 2>"$W/rest.log" & PIDS+=($!)
waitport "$SSH_PORT"; waitport "$S3_PORT"; waitport "$REST_PORT"
SSHCMD="ssh -i $W/sshd/user -p $SSH_PORT -o UserKnownHostsFile=$W/sshd/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes root@127.0.0.1 -s sftp"
export RCLONE_CONFIG=/dev/null
export RCLONE_CONFIG_BSFTP_TYPE=sftp RCLONE_CONFIG_BSFTP_HOST=127.0.0.1 RCLONE_CONFIG_BSFTP_PORT=$SSH_PORT RCLONE_CONFIG_BSFTP_USER=root \
	RCLONE_CONFIG_BSFTP_KEY_FILE=$W/sshd/user RCLONE_CONFIG_BSFTP_KNOWN_HOSTS_FILE=$W/sshd/known_hosts
export RCLONE_CONFIG_BS3_TYPE=s3 RCLONE_CONFIG_BS3_PROVIDER=Other RCLONE_CONFIG_BS3_ENDPOINT=http://127.0.0.1:$S3_PORT \
	RCLONE_CONFIG_BS3_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_BS3_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export RESTIC_CACHE_DIR=$W/restic-cache

# --- the kit, and the same repository as a folder for the peers ---
K=$W/kit; mkdir -p "$K/dist"; cp "$TK" "$K/dist/travelkit-linux-amd64"
printf 'bench passphrase' > "$K/pass"
printf 'name = "bench"\n[luks]\npbkdf = "pbkdf2"\npbkdf_iterations = 1000\n[tools]\nplatforms = ["linux/amd64"]\n' > "$K/kit.toml"
"$TK" build --profile "$K/kit.toml" --target "$K/kit.img" --size $((3 * $(numfmt --from=iec "$SIZE") / 1048576 + 512))MiB \
	--binaries "$K/dist" --passphrase-file "$K/pass" --recovery-key-file "$K/rk" --yes --allow-weak-passphrase > /dev/null
KIT="--target $K/kit.img --passphrase-file $K/pass"
/usr/bin/time -f %M -o "$W/backup-first.rss" "$TK" backup $KIT --host bench "$SRC" > /dev/null
REPO=$W/folder-repo
"$TK" remote add --target "$K/kit.img" --recovery-key-file "$K/rk" folder "$REPO" > /dev/null
"$TK" remote add --target "$K/kit.img" --recovery-key-file "$K/rk" --ssh-key "$W/sshd/user" --host-key "$HOSTKEY" sftp "sftp://root@127.0.0.1:$SSH_PORT/$W/srv/tk" > /dev/null
"$TK" remote add --target "$K/kit.img" --recovery-key-file "$K/rk" s3 "s3:http://127.0.0.1:$S3_PORT/kits/tk" > /dev/null
"$TK" remote add --target "$K/kit.img" --recovery-key-file "$K/rk" rest "rest:http://127.0.0.1:$REST_PORT/tk/" > /dev/null
"$TK" copy $KIT folder > /dev/null
echo "repository: $(du -sh "$REPO" | cut -f1), $(find "$REPO" -type f | wc -l) files"

RES=$W/results.tsv
printf 'round\tbackend\ttool\twall_s\tcpu_s\tserver_cpu_s\tmaxrss_kb\n' > "$RES"
declare -A SRVPID=([sftp]=${PIDS[0]} [s3]=${PIDS[1]} [rest]=${PIDS[2]})
TCK=$(getconf CLK_TCK)
srvcpu() { # CPU seconds of a server and its reaped children
	awk -v t="$TCK" '{sub(/.*\) /, ""); printf "%.2f", ($12+$13+$14+$15)/t}' "/proc/$1/stat"
}
measure() { # measure ROUND BACKEND TOOL cmd...
	local round=$1 backend=$2 tool=$3; shift 3
	local log=$W/$round-$backend-$tool.time
	sync
	local s0; s0=$(srvcpu "${SRVPID[$backend]}")
	if [ "$tool" = travelkit ] && [ "${PROFILE:-0}" = 1 ]; then export TRAVELKIT_CPUPROFILE=$W/$round-$backend.pprof; fi
	/usr/bin/time -v -o "$log" "$@" > "$W/$round-$backend-$tool.out" 2>&1 || { echo "FAILED: $*" >&2; tail -5 "$W/$round-$backend-$tool.out" >&2; exit 1; }
	unset TRAVELKIT_CPUPROFILE
	sleep 0.5 # the server reaps its session
	local s1; s1=$(srvcpu "${SRVPID[$backend]}")
	local wall rss cpu srv
	wall=$(awk -F': ' '/Elapsed/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
	cpu=$(awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.2f", s}' "$log")
	rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$log")
	srv=$(awk -v a="$s0" -v b="$s1" 'BEGIN {printf "%.2f", b-a}')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$backend" "$tool" "$wall" "$cpu" "$srv" "$rss" >> "$RES"
	printf '%-14s %-5s %-10s %8.2f s wall %7.2f s cpu %7.2f s server cpu %5d MiB\n' "$round" "$backend" "$tool" "$wall" "$cpu" "$srv" $((rss / 1024))
}
RK=$K/rk
restic_init() { restic -r "$1" "${@:2}" init --from-repo "$REPO" --from-password-file "$RK" --password-file "$RK" --copy-chunker-params > /dev/null; }

round() { # round NAME
	local r=$1
	measure "$r" sftp travelkit "$TK" copy $KIT sftp
	measure "$r" sftp restic restic -r "sftp:root@127.0.0.1:$W/srv/restic" -o sftp.command="$SSHCMD" copy --from-repo "$REPO" --from-password-file "$RK" --password-file "$RK"
	measure "$r" sftp rclone rclone copy "$REPO" "bsftp:$W/srv/rclone" --transfers 4
	measure "$r" s3 travelkit "$TK" copy $KIT s3
	measure "$r" s3 restic restic -r "s3:http://127.0.0.1:$S3_PORT/kits/restic" copy --from-repo "$REPO" --from-password-file "$RK" --password-file "$RK"
	measure "$r" s3 rclone env -u AWS_CA_BUNDLE rclone copy "$REPO" "bs3:kits/rclone" --transfers 4
	measure "$r" rest travelkit "$TK" copy $KIT rest
	measure "$r" rest restic restic -r "rest:http://127.0.0.1:$REST_PORT/restic/" copy --from-repo "$REPO" --from-password-file "$RK" --password-file "$RK"
}
restic_init "sftp:root@127.0.0.1:$W/srv/restic" -o sftp.command="$SSHCMD"
restic_init "s3:http://127.0.0.1:$S3_PORT/kits/restic"
restic_init "rest:http://127.0.0.1:$REST_PORT/restic/"

# destination folders of travelkit and rclone (the S3 server keeps objects as files); the
# states are hard links (every tool writes a new file and renames it, never in place)
DESTS=("$W/srv/tk" "$W/srv/rclone" "$W/s3/kits/tk" "$W/s3/kits/rclone")
save_dests() { rm -rf "$W/state-$1"; mkdir -p "$W/state-$1"; local i; for i in "${!DESTS[@]}"; do [ -e "${DESTS[$i]}" ] && cp -al "${DESTS[$i]}" "$W/state-$1/$i"; done; return 0; }
put_dests() { local i; for i in "${!DESTS[@]}"; do rm -rf "${DESTS[$i]}"; [ -e "$W/state-$1/$i" ] && cp -al "$W/state-$1/$i" "${DESTS[$i]}"; done; sync; return 0; }
pairs() { # pairs ROUND STATE: travelkit and rclone in turns, each from STATE
	local r=$1 st=$2 i
	for i in $(seq "${PAIRS:-2}"); do
		for be in sftp s3; do
			local tk=("$TK" copy $KIT "$be") rc=(rclone copy "$REPO" "bsftp:$W/srv/rclone" --transfers 4)
			[ "$be" = s3 ] && rc=(env -u AWS_CA_BUNDLE rclone copy "$REPO" "bs3:kits/rclone" --transfers 4)
			put_dests "$st"
			if [ $((i % 2)) = 1 ]; then
				measure "$r-pair$i" "$be" travelkit "${tk[@]}"; measure "$r-pair$i" "$be" rclone "${rc[@]}"
			else
				measure "$r-pair$i" "$be" rclone "${rc[@]}"; measure "$r-pair$i" "$be" travelkit "${tk[@]}"
			fi
		done
	done
}

save_dests empty
echo "== first copy ($SIZE) =="
round first
save_dests first
pairs first empty
put_dests first
python3 "$BENCH/mutate.py" "$SRC" "$SEED" 1 > /dev/null
/usr/bin/time -f %M -o "$W/backup-incremental.rss" "$TK" backup $KIT --host bench "$SRC" > /dev/null
"$TK" copy $KIT folder > /dev/null
echo "== incremental copy after the ~5 % change =="
round incremental
save_dests incremental
pairs incremental first
put_dests incremental

# restic reads travelkit's copies
restic -r "sftp:root@127.0.0.1:$W/srv/tk" -o sftp.command="$SSHCMD" --password-file "$RK" check > /dev/null
restic -r "s3:http://127.0.0.1:$S3_PORT/kits/tk" --password-file "$RK" check > /dev/null
restic -r "rest:http://127.0.0.1:$REST_PORT/tk/" --password-file "$RK" check > /dev/null
echo "restic check of travelkit's three copies: ok"

echo
echo "== travelkit against the faster peer (bar: ratio <= 1.00) =="
echo "   wall seconds; cpu = client + server CPU seconds; ratio = travelkit / the peer faster by wall"
python3 - "$RES" <<'PY'
import csv, sys, collections, statistics
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
by = collections.defaultdict(dict)
for r in rows:
    by[(r["round"], r["backend"])][r["tool"]] = r
cpu = lambda r: float(r["cpu_s"]) + float(r["server_cpu_s"])
paired = collections.defaultdict(lambda: ([], []))
for (rnd, be), t in by.items():
    tk = float(t["travelkit"]["wall_s"])
    peers = {k: float(v["wall_s"]) for k, v in t.items() if k != "travelkit"}
    best = min(peers, key=peers.get)
    rss = int(t["travelkit"]["maxrss_kb"]) // 1024
    others = ", ".join(f"{k} {v:.2f}s/{cpu(t[k]):.2f}cpu" for k, v in sorted(peers.items()))
    print(f"{rnd:16s} {be:5s} travelkit {tk:7.2f}s/{cpu(t['travelkit']):.2f}cpu ({rss} MiB)  {others}  "
          f"ratio to {best}: wall {tk/peers[best]:.2f} cpu {cpu(t['travelkit'])/cpu(t[best]):.2f}")
    if "rclone" in t:
        w, c = paired[(rnd.split("-")[0], be)]
        w.append(tk / float(t["rclone"]["wall_s"])); c.append(cpu(t["travelkit"]) / cpu(t["rclone"]))
print("paired with rclone (all runs of a round; median, min-max):")
for (rnd, be), (w, c) in paired.items():
    print(f"  {rnd:12s} {be:5s} n={len(w)}  wall {statistics.median(w):.2f} ({min(w):.2f}-{max(w):.2f})"
          f"  cpu {statistics.median(c):.2f} ({min(c):.2f}-{max(c):.2f})")
PY
echo "peak RSS: backup $(($(tail -1 "$W/backup-first.rss") / 1024)) MiB (first), $(($(tail -1 "$W/backup-incremental.rss") / 1024)) MiB (incremental); travelkit copy at most $(awk -F'\t' '$3 == "travelkit" && $7 > m {m = $7} END {print int(m / 1024)}' "$RES") MiB"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
