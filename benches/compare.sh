#!/usr/bin/env bash
# Times this checkout against another revision, side by side: builds REV in
# a git worktree of its own, then runs the source design's scenario (the
# classic lab without its timeline, about 520 s simulated) with each release
# binary in turn, RUNS times each, and prints each one's median wall time,
# events per second, and the ratio of the medians. Alternating the runs
# keeps a busy machine's noise from favouring either side.
#   benches/compare.sh REV [RUNS]      e.g. benches/compare.sh 3e6404f 7
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: benches/compare.sh REV [RUNS]}
runs=${2:-7}
work=$(mktemp -d)
tree="$work/tree"
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

git worktree add --detach "$tree" "$rev" >/dev/null
(cd "$tree" && cargo build --release --quiet)
cargo build --release --quiet
old="$tree/target/release/lblab"
new="$PWD/target/release/lblab"

# Classic without its chaos timeline: every run does the same work. Each
# side reads its own revision's preset, as the lab format may have grown
# since; the scenario (servers, clients, balancer) is the same.
strip_timeline() {
    awk '/^    timeline: \[/ {skip=1} skip && /^    \],/ {skip=0; next} !skip' "$1" >"$2"
}
strip_timeline "$tree/presets/classic.ron" "$work/classic-old.ron"
strip_timeline presets/classic.ron "$work/classic-new.ron"

for _ in $(seq "$runs"); do
    for side in old new; do
        bin=$old
        [ "$side" = new ] && bin=$new
        "$bin" run "$work/classic-$side.ron" |
            awk -v side="$side" '/^events processed/ {e=$3} /^wall time/ {sub("s","",$3); print side, $3, e}' \
                >>"$work/times"
    done
done

# Median wall time and events per second of each side, and the ratio.
sort -k1,1 -k2,2n "$work/times" | awk -v rev="$rev" -v runs="$runs" '
    { t[$1, ++n[$1]] = $2; e[$1] = $3 }
    END {
        for (side in n) m[side] = t[side, int((n[side] + 1) / 2)]
        printf "%-10s median %.3fs  %5.2fM events/s  (%d runs)\n", rev, m["old"], e["old"] / m["old"] / 1e6, runs
        printf "%-10s median %.3fs  %5.2fM events/s  (%d runs)\n", "this", m["new"], e["new"] / m["new"] / 1e6, runs
        printf "this checkout is %.2fx as fast\n", m["old"] / m["new"]
    }'
