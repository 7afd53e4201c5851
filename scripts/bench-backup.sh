#!/bin/bash
# bench-backup.sh [SIZE] [RUNS] -- travelkit beside restic and borg on the shared
# home-folder dataset (../shared/bench), in one run: init, first backup, incremental
# backup after the ~5% mutation, check --read-data, restore; wall, CPU, peak RSS,
# repository size, and same-run ratios. Not a test: it prints a comparison.
#   env: TOOLS (default "restic borg-lz4 borg-zstd travelkit travelkit_kit travelkit_1core"),
#        RAW=0|1, BENCH_DIR (default /tmp/travelkit-bench: the pristine dataset, the binary,
#        results), SEED,
#        BENCH_FS=ext4 (default; needs root): the work directory (source copy, repositories,
#          restores, kits) on a fresh JOURNALED ext4 (mkfs.ext4 defaults, as a laptop's disk)
#          in a loop-mounted sparse image under BENCH_DIR, removed at the end;
#        BENCH_FS=tmpfs: the work directory in memory; BENCH_FS=root: the old behaviour, the
#          work directory on BENCH_DIR's own filesystem (WORKDIR may then move it).
#   Why not / by default: this VM's / is ext4 without a journal, where creating files costs up
#   to 10x the system time for minutes after any rm -rf (and the bench deletes the previous
#   tool's trees right before each tool), so restores and backups measured the disk's timing,
#   not the tools (README "Benchmarks", "Where the work directory lives").
#   Results (results.tsv, table.txt, log/) are copied to $BENCH_DIR/work-$SIZE.
set -euo pipefail
SIZE=${1:-1G}; RUNS=${2:-1}
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
BENCH=${BENCH:-$(cd "$ROOT/../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}
export BENCH_DIR=${BENCH_DIR:-/tmp/travelkit-bench}
. "$ROOT/scripts/benchfs.sh"
benchfs_check
mkdir -p "$BENCH_DIR"
TK=$BENCH_DIR/travelkit
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$TK" ./cmd/travelkit)

HOOKS=$BENCH_DIR/travelkit-hooks.sh
cat > "$HOOKS" <<HOOK
hook_travelkit() {
  local run=\$1 R=\$W/repo-travelkit RT=\$W/restore-travelkit PW=\$W/travelkit-pw
  rm -rf "\$R" "\$RT"; printf '%s\n' "\$RESTIC_PASSWORD" > "\$PW"
  measure "\$run" travelkit init 0 "\$R" -- "$TK" init --repo "\$R" --password-file "\$PW"
  measure "\$run" travelkit backup1 "\$BYTES0" "\$R" -- "$TK" backup --repo "\$R" --password-file "\$PW" --host bench "\$SRC"
  python3 "\$HERE/mutate.py" "\$SRC" "\$SEED" 1 > /dev/null
  measure "\$run" travelkit backup2-incr "\$(treebytes "\$SRC")" "\$R" -- "$TK" backup --repo "\$R" --password-file "\$PW" --host bench "\$SRC"
  measure "\$run" travelkit check-read-data "\$(treebytes "\$SRC")" "\$R" -- "$TK" check --repo "\$R" --password-file "\$PW" --read-data
  mkdir -p "\$RT"
  measure "\$run" travelkit restore "\$(treebytes "\$SRC")" "\$R" -- "$TK" restore --repo "\$R" --password-file "\$PW" latest --to "\$RT"
  verify "\$run" travelkit "\$RT\$SRC"
  # the oracle reads what travelkit wrote
  measure "\$run" travelkit restic-check-of-travelkit-repo "\$(treebytes "\$SRC")" "\$R" -- restic -r "\$R" --no-cache check --read-data
  [ "\$KEEP" = 1 ] || rm -rf "\$RT" "\$R" "\$PW"
}

# The same steps on one core (GOMAXPROCS=1): the speedup of all cores over one.
hook_travelkit_1core() {
  local run=\$1 R=\$W/repo-travelkit-1 RT=\$W/restore-travelkit-1 PW=\$W/travelkit-pw
  rm -rf "\$R" "\$RT"; printf '%s\n' "\$RESTIC_PASSWORD" > "\$PW"
  export GOMAXPROCS=1
  measure "\$run" travelkit-1core init 0 "\$R" -- "$TK" init --repo "\$R" --password-file "\$PW"
  measure "\$run" travelkit-1core backup1 "\$BYTES0" "\$R" -- "$TK" backup --repo "\$R" --password-file "\$PW" --host bench "\$SRC"
  python3 "\$HERE/mutate.py" "\$SRC" "\$SEED" 1 > /dev/null
  measure "\$run" travelkit-1core backup2-incr "\$(treebytes "\$SRC")" "\$R" -- "$TK" backup --repo "\$R" --password-file "\$PW" --host bench "\$SRC"
  measure "\$run" travelkit-1core check-read-data "\$(treebytes "\$SRC")" "\$R" -- "$TK" check --repo "\$R" --password-file "\$PW" --read-data
  mkdir -p "\$RT"
  measure "\$run" travelkit-1core restore "\$(treebytes "\$SRC")" "\$R" -- "$TK" restore --repo "\$R" --password-file "\$PW" latest --to "\$RT"
  unset GOMAXPROCS
  [ "\$KEEP" = 1 ] || rm -rf "\$RT" "\$R"
}

# The same steps into a kit: ext4 inside userspace LUKS2 in a sparse image file, unlocked
# with the passphrase (cheap KDF so unlocking does not count). Bar: within 1.2x of the
# folder repository above.
hook_travelkit_kit() {
  local run=\$1 K=\$W/kit-travelkit RT=\$W/restore-travelkit-kit
  rm -rf "\$K" "\$RT"; mkdir -p "\$K/dist"
  cp "$TK" "\$K/dist/travelkit-linux-amd64"
  printf 'bench passphrase' > "\$K/pass"
  printf 'name = "bench"\n[luks]\npbkdf = "pbkdf2"\npbkdf_iterations = 1000\n[tools]\nplatforms = ["linux/amd64"]\n' > "\$K/kit.toml"
  measure "\$run" travelkit-kit init 0 "" -- "$TK" build --profile "\$K/kit.toml" --target "\$K/kit.img" --size 6GiB --binaries "\$K/dist" --passphrase-file "\$K/pass" --yes --allow-weak-passphrase
  local T="--target \$K/kit.img --passphrase-file \$K/pass"
  measure "\$run" travelkit-kit backup1 "\$BYTES0" "" -- "$TK" backup \$T --host bench "\$SRC"
  python3 "\$HERE/mutate.py" "\$SRC" "\$SEED" 1 > /dev/null
  measure "\$run" travelkit-kit backup2-incr "\$(treebytes "\$SRC")" "" -- "$TK" backup \$T --host bench "\$SRC"
  measure "\$run" travelkit-kit check-read-data "\$(treebytes "\$SRC")" "" -- "$TK" check \$T --read-data
  mkdir -p "\$RT"
  measure "\$run" travelkit-kit restore "\$(treebytes "\$SRC")" "" -- "$TK" restore \$T latest --to "\$RT"
  verify "\$run" travelkit-kit "\$RT\$SRC"
  [ "\$KEEP" = 1 ] || rm -rf "\$RT" "\$K"
}
HOOK

TOOLS=${TOOLS:-"restic borg-lz4 borg-zstd travelkit travelkit_kit travelkit_1core"}
OUT=$BENCH_DIR/work-$SIZE
if [ "$BENCH_FS" != root ]; then
  # room for the source copy, one tool's repository (or kit image) and restore at a time, the
  # mutated copy's manifest and RAW's 1 GiB files; the image is sparse and mounted with discard
  bytes=$(numfmt --from=iec "$SIZE"); ds=$BENCH_DIR/ds-$SIZE-s${SEED:-42}
  if [ -f "$ds.ok" ]; then dsb=$(du -s --block-size=1 "$ds" | cut -f1); [ "$dsb" -le "$bytes" ] || bytes=$dsb; fi
  benchfs_trap
  benchfs_mount "$BENCH_DIR" $((6 * bytes + (1 << 30) + ${RAW:-0} * (4 << 30)))
  export WORKDIR=$BENCHFS_MNT/work-$SIZE
fi
rc=0
HOOKS=$HOOKS TOOLS=$TOOLS RAW=${RAW:-0} "$BENCH/bench_peers.sh" "$SIZE" "$RUNS" || rc=$?
if [ "$BENCH_FS" != root ]; then
  rm -rf "$OUT"; mkdir -p "$OUT"
  cp -r "$WORKDIR/results.tsv" "$WORKDIR/log" "$OUT/" 2>/dev/null || true
  cp "$WORKDIR/table.txt" "$OUT/" 2>/dev/null || true
  benchfs_cleanup
  echo "work directory was on BENCH_FS=$BENCH_FS (removed); results in $OUT"
fi
[ "$rc" = 0 ] || exit "$rc"
RES=${WORKDIR:-$OUT}/results.tsv
[ "$BENCH_FS" = root ] || RES=$OUT/results.tsv

echo
echo "== travelkit against the peers, per run (wall seconds) =="
echo "   bars: first backup, incremental, restore <= 0.50 x the fastest peer; check --read-data <= 0.80 x restic;"
echo "   peak RSS <= borg's in every step; into the kit <= 1.20 x into a folder"
python3 - "$RES" <<'PY'
import csv, sys, collections
rows = [r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t") if r["wall_s"]]
by = collections.defaultdict(dict)
for r in rows:
    by[(r["run"], r["step"])][r["tool"]] = r
steps = ["backup1", "backup2-incr", "restore"]
peersof = lambda t: {k: v for k, v in t.items() if not k.startswith("travelkit")}
for (run, step), t in sorted(by.items()):
    if "travelkit" not in t:
        continue
    tk = float(t["travelkit"]["wall_s"])
    if step in steps:
        peers = {k: float(v["wall_s"]) for k, v in peersof(t).items()}
        if peers:
            best = min(peers, key=peers.get)
            r = tk / peers[best]
            print(f"run {run} {step:16s} travelkit {tk:6.2f}s  fastest peer {best} {peers[best]:6.2f}s  ratio {r:.2f}  {'ok' if r <= 0.5 else 'MISSED'}")
    if step.startswith("check") and "restic" in t:
        pass
for (run, step), t in sorted(by.items()):
    if step == "check-read-data" and "travelkit" in t:
        re = [v for (r2, s2), tt in by.items() if r2 == run and s2 == "check-read-data" for k, v in tt.items() if k == "restic"]
        if re:
            a, b = float(t["travelkit"]["wall_s"]), float(re[0]["wall_s"])
            print(f"run {run} check-read-data   travelkit {a:6.2f}s  restic {b:6.2f}s  ratio {a/b:.2f}  {'ok' if a/b <= 0.8 else 'MISSED'}")
for (run, step), t in sorted(by.items()):
    if "travelkit" in t:
        borg = [v for k, v in t.items() if k.startswith("borg")]
        if not borg:
            for (r2, s2), tt in by.items():
                if r2 == run and s2.startswith(step.split("-")[0]):
                    borg += [v for k, v in tt.items() if k.startswith("borg")]
        if borg:
            a, b = int(t["travelkit"]["maxrss_kb"]), min(int(v["maxrss_kb"]) for v in borg)
            print(f"run {run} peak RSS {step:16s} travelkit {a/1024:5.0f} MB  borg {b/1024:5.0f} MB  {'ok' if a <= b else 'HIGHER'}")
for (run, step), t in sorted(by.items()):
    if step in steps + ["check-read-data"] and "travelkit" in t and "travelkit-kit" in t:
        f, k = float(t["travelkit"]["wall_s"]), float(t["travelkit-kit"]["wall_s"])
        print(f"run {run} {step:16s} into the kit {k:6.2f}s  into a folder {f:6.2f}s  ratio {k/f:.2f}  {'ok' if k <= 1.2 * f else 'MISSED'}")
for (run, step), t in sorted(by.items()):
    if step in steps + ["check-read-data"] and "travelkit" in t and "travelkit-1core" in t:
        f, o = float(t["travelkit"]["wall_s"]), float(t["travelkit-1core"]["wall_s"])
        print(f"run {run} {step:16s} one core {o:6.2f}s  all cores {f:6.2f}s  speedup {o/f:.2f}")
for (run, step), t in sorted(by.items()):
    if step == "backup1" and "travelkit" in t and "restic" in t:
        ra, rb = int(t["travelkit"]["repo_bytes"]), int(t["restic"]["repo_bytes"])
        print(f"run {run} repository after backup1: travelkit {ra/2**20:.0f} MiB, restic {rb/2**20:.0f} MiB (ratio {ra/rb:.3f})")
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
REF=${REF:-restic} python3 "$BENCH/report.py" "$RES" || true
