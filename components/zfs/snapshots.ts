// Scheduled ZFS snapshots with retention: the tool a dataset's timer runs, and how a schedule maps to its arguments (pure).

/** Where every host keeps the one shared snapshot tool. */
export const AUTOSNAP_TOOL = "/usr/local/lib/hearth/zfs-autosnap";

export const SNAPSHOT_CLASSES = ["hourly", "daily", "weekly"] as const;
export type SnapshotEvery = (typeof SNAPSHOT_CLASSES)[number];

export interface SnapshotSchedule {
    readonly every: SnapshotEvery;
    readonly keep: { readonly hourly: number; readonly daily: number; readonly weekly: number };
}

/** The tool's argv for one dataset: `DATASET HOURLY DAILY WEEKLY` (counts to keep; 0 = take none of that class). */
export function autosnapArgs(dataset: string, schedule: SnapshotSchedule): string[] {
    return [AUTOSNAP_TOOL, dataset, String(schedule.keep.hourly), String(schedule.keep.daily), String(schedule.keep.weekly)];
}

/**
 * One run takes an hourly snapshot (when hourly ones are kept), a daily one when none exists for today (UTC) and a
 * weekly one when none exists for this ISO week, then prunes each kept class to its newest N. Snapshot names carry
 * their UTC time, so name order is time order and a class is recognised by an exact pattern: the pre-change
 * snapshots (`@hearth-<time>`) and anything a person made never match and are never pruned. A class whose keep is 0
 * is left alone, so lowering a count to 0 stops new snapshots without deleting old ones.
 */
export const AUTOSNAP_SCRIPT = `#!/bin/bash
# hearth: scheduled snapshots with retention for one hearth-managed ZFS dataset
set -euo pipefail
export LC_ALL=C
if [ "$#" -ne 4 ]; then echo "usage: zfs-autosnap DATASET KEEP_HOURLY KEEP_DAILY KEEP_WEEKLY" >&2; exit 64; fi
ds=$1
declare -A keep=([hourly]=$2 [daily]=$3 [weekly]=$4)
if [[ ! $ds =~ ^[A-Za-z][A-Za-z0-9_.:-]*(/[A-Za-z0-9_][A-Za-z0-9_.:-]*)+$ ]]; then echo "zfs-autosnap: bad dataset name $ds" >&2; exit 64; fi
for c in hourly daily weekly; do
  if [[ ! \${keep[$c]} =~ ^[0-9]{1,4}$ ]]; then echo "zfs-autosnap: bad keep count for $c: \${keep[$c]}" >&2; exit 64; fi
done
# Only a dataset that carries a hearth:owner mark of its own (not one inherited from a parent) is touched.
if [ -z "$(zfs get -H -o value -s local hearth:owner "$ds")" ]; then
  echo "zfs-autosnap: $ds carries no hearth:owner mark of its own; not touching it" >&2
  exit 1
fi
# HEARTH_NOW pins the clock (format 20240131T235900Z) so retention can be replayed over simulated days.
now=\${HEARTH_NOW:-$(date -u +%Y%m%dT%H%M%SZ)}
if [[ ! $now =~ ^[0-9]{8}T[0-9]{6}Z$ ]]; then echo "zfs-autosnap: bad time $now" >&2; exit 64; fi
today=\${now%%T*}
week=$(date -u -d "$today" +%G%V)
mapfile -t all < <(zfs list -H -o name -t snapshot -r "$ds")
# Snapshots of class $1, oldest first (names sort by their embedded UTC time).
class_snaps() {
  local s
  for s in "\${all[@]}"; do
    if [[ $s == "$ds@hearth-$1-"* ]] && [[ \${s#"$ds@hearth-$1-"} =~ ^[0-9]{8}T[0-9]{6}Z$ ]]; then echo "$s"; fi
  done | sort
}
take() {
  zfs snapshot "$ds@hearth-$1-$now"
  all+=("$ds@hearth-$1-$now")
  echo "zfs-autosnap: took $ds@hearth-$1-$now"
}
if [ "\${keep[hourly]}" -gt 0 ]; then take hourly; fi
if [ "\${keep[daily]}" -gt 0 ]; then
  last=$(class_snaps daily | tail -n 1)
  if [ -z "$last" ] || [[ \${last##*-} < "$today" ]]; then take daily; fi
fi
if [ "\${keep[weekly]}" -gt 0 ]; then
  last=$(class_snaps weekly | tail -n 1)
  if [ -z "$last" ]; then take weekly; else
    t=\${last##*-}
    if [ "$(date -u -d "\${t%%T*}" +%G%V)" != "$week" ]; then take weekly; fi
  fi
fi
failed=0
for c in hourly daily weekly; do
  n=\${keep[$c]}
  if [ "$n" -eq 0 ]; then continue; fi
  mapfile -t snaps < <(class_snaps "$c")
  excess=$(( \${#snaps[@]} - n ))
  for (( i = 0; i < excess; i++ )); do
    # A snapshot with clones cannot go; it stays and the run reports failure so the unit shows it.
    if zfs destroy "\${snaps[$i]}"; then echo "zfs-autosnap: pruned \${snaps[$i]}"; else failed=1; fi
  done
done
exit "$failed"
`;
