#!/bin/bash
# bench-backup.sh [SIZE] [RUNS] -- travelkit beside restic and borg on the shared
# home-folder dataset (../shared/bench), in one run: init, first backup, incremental
# backup after the ~5% mutation, check --read-data, restore; wall, CPU, peak RSS,
# repository size, and same-run ratios. Not a test: it prints a comparison.
#   env: TOOLS (default "restic borg-lz4 borg-zstd travelkit"), RAW=0|1, BENCH_DIR, SEED
set -euo pipefail
SIZE=${1:-1G}; RUNS=${2:-1}
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
BENCH=${BENCH:-$(cd "$ROOT/../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}
export BENCH_DIR=${BENCH_DIR:-/tmp/travelkit-bench}
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

# The same steps into a kit: ext4 inside userspace LUKS2 in a sparse image file, unlocked
# with the passphrase (cheap KDF so unlocking does not count). Bar: within 1.5x of the
# folder repository above.
hook_travelkit_kit() {
  local run=\$1 K=\$W/kit-travelkit RT=\$W/restore-travelkit-kit
  rm -rf "\$K" "\$RT"; mkdir -p "\$K/dist"
  cp "$TK" "\$K/dist/travelkit-linux-amd64"
  printf 'bench passphrase' > "\$K/pass"
  printf 'name = "bench"\n[luks]\npbkdf = "pbkdf2"\npbkdf_iterations = 1000\n[tools]\nplatforms = ["linux/amd64"]\n' > "\$K/kit.toml"
  measure "\$run" travelkit-kit init 0 "" -- "$TK" build --profile "\$K/kit.toml" --target "\$K/kit.img" --size 6GiB --binaries "\$K/dist" --passphrase-file "\$K/pass" --yes
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

TOOLS=${TOOLS:-"restic borg-lz4 borg-zstd travelkit travelkit_kit"}
HOOKS=$HOOKS TOOLS=$TOOLS RAW=${RAW:-0} "$BENCH/bench_peers.sh" "$SIZE" "$RUNS"
RES=${WORKDIR:-$BENCH_DIR/work-$SIZE}/results.tsv

echo
echo "== travelkit against the faster of restic and borg, per run (wall seconds; bar: ratio <= 1.00) =="
python3 - "$RES" <<'PY'
import csv, sys, collections
rows = [r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t") if r["wall_s"]]
by = collections.defaultdict(dict)
for r in rows:
    by[(r["run"], r["step"])][r["tool"]] = r
steps = ["backup1", "backup2-incr", "restore", "check-read-data"]
for (run, step), t in sorted(by.items()):
    if step not in steps or "travelkit" not in t:
        continue
    tk = float(t["travelkit"]["wall_s"])
    peers = {k: float(v["wall_s"]) for k, v in t.items() if not k.startswith("travelkit")}
    if not peers:
        continue
    best = min(peers, key=peers.get)
    bar = "ok" if tk <= peers[best] or step == "check-read-data" else "SLOWER"
    print(f"run {run} {step:16s} travelkit {tk:6.2f}s  fastest peer {best} {peers[best]:6.2f}s  ratio {tk/peers[best]:.2f}  {bar}")
for (run, step), t in sorted(by.items()):
    if step in steps and "travelkit" in t and "travelkit-kit" in t:
        f, k = float(t["travelkit"]["wall_s"]), float(t["travelkit-kit"]["wall_s"])
        bar = "ok" if step == "check-read-data" or k <= 1.5 * f else "SLOWER"
        print(f"run {run} {step:16s} into the kit {k:6.2f}s  into a folder {f:6.2f}s  ratio {k/f:.2f}  {bar} (bar 1.5)")
for (run, step), t in sorted(by.items()):
    if step != "backup1" or "travelkit" not in t or "restic" not in t:
        continue
    a, b = int(t["travelkit"]["maxrss_kb"]), int(t["restic"]["maxrss_kb"])
    print(f"run {run} peak RSS backup1: travelkit {a/1024:.0f} MB, restic {b/1024:.0f} MB  {'ok' if a <= b else 'HIGHER'}")
    ra, rb = int(t["travelkit"]["repo_bytes"]), int(t["restic"]["repo_bytes"])
    print(f"run {run} repository after backup1: travelkit {ra/2**20:.0f} MiB, restic {rb/2**20:.0f} MiB (ratio {ra/rb:.3f})")
PY
echo
REF=${REF:-restic} python3 "$BENCH/report.py" "$RES" || true
