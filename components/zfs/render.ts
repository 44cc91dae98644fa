// ZfsDataset renderer: resolved dataset spec in, converge and delete scripts out (pure, no Pulumi).
import type { DatasetProps } from "../core/props";
import { Script, contentHash, frameStdin, shq } from "../shell";
import { OwnerMark } from "../core/owner";
import { ZFS_MOUNTPOINT } from "../core/protocols";
import { AUTOSNAP_SCRIPT, AUTOSNAP_TOOL } from "./snapshots";

/** A dataset path `pool/child[/…]`: no `..`, `@`, spaces, leading `-` or trailing `/` can match. */
export const DATASET_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,254}(\/[A-Za-z0-9_][A-Za-z0-9_.:-]{0,254})+$/;
/** The part after `@` in a snapshot name. */
export const SNAPSHOT_LABEL = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,254}$/;
/** A ZFS user property key (must contain a colon); `hearth:` keys are reserved for hearth's own marks. */
export const USER_PROPERTY = /^[a-z0-9_][a-z0-9_.+-]*:[a-z0-9_.:+-]{1,200}$/;
/** Longest dataset name ZFS accepts (ZFS_MAX_DATASET_NAME_LEN - 1). */
export const MAX_DATASET_LENGTH = 255;

/** The ownership mark: the owner id of the one resource that manages the dataset, as the dataset's own property. */
export const OWNER_PROP = "hearth:owner";
/** The shared mark of earlier releases: read as "legacy", adopted by the one resource that declares the dataset. */
export const LEGACY_PROP = "hearth:managed";
/** @deprecated the earlier release's mark; see OWNER_PROP. */
export const MANAGED_PROP = LEGACY_PROP;
/** Which properties hearth set last time, so a property dropped from the args is inherited again. */
export const PROPS_PROP = "hearth:props";
/** Where keys of encrypted datasets live: generated on the host, never leaving it. */
export const KEY_DIR = "/etc/hearth/zfs-keys";

/** Compression values that need a pool feature flag, by the feature's name. */
const COMPRESSION_FEATURES: Record<string, string> = { lz4: "lz4_compress", zstd: "zstd_compress" };

/**
 * What the converge and delete scripts are rendered from: what the component records (core/props.ts: `properties` in
 * the exact form `zfs get -Hp` prints them, `origin` the `pool/ds@snap` to clone from when the dataset does not exist
 * yet), without the host and the schedule.
 */
export interface DatasetSpec extends Omit<DatasetProps, "host" | "snapshots"> {
    /** Install the shared scheduled-snapshot tool (the dataset has a snapshot timer). */
    readonly autosnap: boolean;
}

export interface RenderedDataset {
    readonly script: string;
    /** The converge script's stdin: the bodies of the files it installs. */
    readonly stdin: string;
    readonly deleteScript: string;
    readonly hash: string;
    /** The read-only check lines (core/check.ts) of what the converge sets: the files it installs are checked without them. */
    readonly check: readonly string[];
}

export function poolOf(dataset: string): string {
    return dataset.split("/")[0];
}

/** The base algorithm of a compression value (`gzip-9` → `gzip`, `zstd-3` → `zstd`). */
export function compressionFamily(value: string): string {
    return value.replace(/-(fast-)?[0-9]+$/, "");
}

export function keyPath(dataset: string): string {
    return `${KEY_DIR}/${dataset}.key`;
}

/** Pool features the spec needs, each with the property that needs it and a message naming what the pool lacks. */
export function requiredFeatures(spec: DatasetSpec): { feature: string; property: string; value: string }[] {
    const out: { feature: string; property: string; value: string }[] = [];
    const c = spec.properties.compression;
    if (c !== undefined && COMPRESSION_FEATURES[compressionFamily(c)]) {
        out.push({ feature: COMPRESSION_FEATURES[compressionFamily(c)], property: "compression", value: c });
    }
    if (spec.encryption) out.push({ feature: "encryption", property: "encryption", value: "aes-256-gcm" });
    return out;
}

/** Every managed property as `key=value`, native first, in a stable order. */
function wanted(spec: DatasetSpec): [string, string][] {
    const sorted = (r: Readonly<Record<string, string>>) => Object.keys(r).sort().map((k): [string, string] => [k, r[k]]);
    return [...sorted(spec.properties), ...sorted(spec.userProperties)];
}

function propsList(spec: DatasetSpec): string {
    const keys = wanted(spec).map(([k]) => k);
    return keys.length ? keys.join(",") : "none";
}


/** The word that names one desired property state: a pre-change snapshot is taken once per such change. */
function changeId(sets: readonly string[]): string {
    return contentHash(...sets).slice(0, 32);
}

function poolCheck(s: Script): void {
    // A failing `zfs list` of the pool means ZFS itself is unusable; every later "does not exist" would be a lie.
    s.raw(`if ! zfs list -H -o name "$pool" >/dev/null; then hearth_die 69 "pool $pool is not available (is ZFS running and the pool imported?)"; fi`);
}

function convergeScript(spec: DatasetSpec, mark: OwnerMark): Script {
    const s = new Script(`zfs dataset ${spec.dataset}`).owner(mark);
    const sets = [...wanted(spec).map(([k, v]) => `${k}=${v}`), `${PROPS_PROP}=${propsList(spec)}`];
    s.raw(
        // Dataset scripts on one host run one at a time: renames, clones and destroys look across the pool.
        "hearth_lock zfs",
        `ds=${shq(spec.dataset)}`,
        `pool=${shq(poolOf(spec.dataset))}`,
    );
    poolCheck(s);
    // Feature checks come first: a pool that cannot do what was asked is refused before anything changes.
    for (const f of requiredFeatures(spec)) {
        s.raw(`if ! hearth_zfs_feature "$pool" ${shq(f.feature)}; then`);
        let supported = "it supports no native encryption";
        if (f.property === "compression") {
            s.raw(
                `  zfs_supported='off on lzjb gzip gzip-1..gzip-9 zle'`,
                `  if hearth_zfs_feature "$pool" lz4_compress; then zfs_supported="$zfs_supported lz4"; fi`,
                `  if hearth_zfs_feature "$pool" zstd_compress; then zfs_supported="$zfs_supported zstd zstd-1..zstd-19"; fi`,
            );
            supported = "it supports compression ";
        }
        const msg = `property '${f.property}' = ${f.value} needs the pool feature ${f.feature}, which pool `;
        s.raw(`  hearth_die 65 ${shq(msg)}"$pool"${shq(` does not have; ${supported}`)}${f.property === "compression" ? '"$zfs_supported"' : ""}`, "fi");
    }
    const create = [`-o "${OWNER_PROP}=$hearth_owner"`, ...sets.map((kv) => `-o ${shq(kv)}`)].join(" ");
    if (spec.properties.mountpoint?.startsWith("/")) {
        // zfs mounts at create, clone, rename and a mountpoint change: the place is checked before any of them.
        s.raw(`hearth_mount_safe ${shq(spec.properties.mountpoint)}`);
    }
    // Created, cloned or renamed into place, the dataset and every parent `-p` makes are mounted at once: where
    // they inherit their mountpoints from is checked too.
    s.raw(`if ! hearth_zfs_exists "$ds"; then hearth_zfs_mount_places "$ds" ${shq(spec.properties.mountpoint?.startsWith("/") ? spec.properties.mountpoint : "")}; fi`);
    s.raw(
        "zfs_created=0",
        `if hearth_zfs_exists "$ds"; then`,
        `  zfs_found=$(hearth_zfs_mark "$ds")`,
        `  hearth_claim "dataset $ds" "$zfs_found"`,
        `  hearth_zfs_own "$ds"`,
    );
    for (const prev of spec.previousNames) {
        s.raw(
            `elif hearth_zfs_exists ${shq(prev)}; then`,
            `  zfs_prev=${shq(prev)}`,
            `  zfs_found=$(hearth_zfs_mark "$zfs_prev")`,
            `  hearth_claim "dataset $zfs_prev" "$zfs_found"`,
            // The mark is written before the rename, which carries it (and the data and snapshots) along.
            `  hearth_zfs_own "$zfs_prev"`,
            `  hearth_zfs_snapshot_before "$zfs_prev" "rename:$ds"`,
            // zfs-fuse refuses to rename a mounted dataset ("dataset is busy"); it is mounted again below.
            `  hearth_zfs_unmount "$zfs_prev"`,
            // zfs-fuse may report a dataset busy for a moment after its unmount.
            `  zfs_renamed=0`,
            `  for _ in $(seq 1 50); do if zfs rename -p "$zfs_prev" "$ds" 2>/dev/null; then zfs_renamed=1; break; fi; sleep 0.2; done`,
            `  if [ "$zfs_renamed" = 0 ]; then zfs rename -p "$zfs_prev" "$ds"; fi`,
            "  hearth_step",
            `  hearth_say "renamed $zfs_prev to $ds"`,
        );
    }
    s.raw("else");
    if (spec.properties.mountpoint?.startsWith("/")) {
        // zfs would create the dataset and then fail to mount it on a non-empty directory, every run again: refuse first.
        s.raw(
            `  zfs_mp=${shq(spec.properties.mountpoint)}`,
            `  if [ -d "$zfs_mp" ] && [ ! -L "$zfs_mp" ] && [ -n "$(ls -A -- "$zfs_mp")" ] && ! mountpoint -q -- "$zfs_mp"; then`,
            `    hearth_die 65 "refusing to create $ds: its mountpoint $zfs_mp is a directory that is not empty (a dataset renamed without previousNames? list the old name in previousNames to rename it; or move the files away)"`,
            "  fi",
        );
    }
    if (spec.origin !== undefined) {
        s.raw(
            `  zfs_origin=${shq(spec.origin)}`,
            `  if ! hearth_zfs_exists "$zfs_origin"; then hearth_die 66 "origin snapshot $zfs_origin does not exist"; fi`,
            `  zfs clone -p ${create} "$zfs_origin" "$ds"`,
            "  hearth_step",
            `  hearth_say "cloned $zfs_origin to $ds"`,
        );
    } else {
        if (spec.encryption) {
            const key = keyPath(spec.dataset);
            s.raw(
                // The key is made on the host and never leaves it; an existing one is never replaced.
                `  zfs_key=${shq(key)}`,
                "  hearth_dir /etc/hearth",
                `  hearth_dir ${shq(key.slice(0, key.lastIndexOf("/")))} 0700`,
                `  if [ ! -s "$zfs_key" ]; then`,
                `    hearth_tmp_in ${shq(key.slice(0, key.lastIndexOf("/")))}`,
                `    head -c 32 /dev/urandom >"$hearth_tmp"`,
                `    hearth_put "$hearth_tmp" "$zfs_key" 0400 root root`,
                "  fi",
                `  zfs create -p -o encryption=aes-256-gcm -o keyformat=raw -o "keylocation=file://$zfs_key" ${create} "$ds"`,
            );
        } else {
            s.raw(`  zfs create -p ${create} "$ds"`);
        }
        s.raw("  hearth_step", `  hearth_say "created $ds"`);
    }
    s.raw("  zfs_created=1", "fi");
    if (spec.previousNames.length) {
        s.raw(
            `zfs_prevs=(${spec.previousNames.map(shq).join(" ")})`,
            `for zfs_prev in "\${zfs_prevs[@]}"; do`,
            `  if hearth_zfs_exists "$zfs_prev"; then hearth_warn "warning: $zfs_prev still exists beside $ds"; else hearth_zfs_forget "$zfs_prev"; fi`,
            "done",
        );
    }
    if (spec.encryption) {
        s.raw(
            `if [ "$(hearth_zfs_get "$ds" encryption)" = off ]; then`,
            `  hearth_die 65 "property 'encryption' can only be chosen when a dataset is created; $ds exists unencrypted (copy the data into a new encrypted dataset instead)"`,
            "fi",
        );
    }
    s.raw(
        // What differs comes from the host, so a run killed half-way finds the rest still to do.
        "# shellcheck disable=SC2054 # commas inside one property value (hearth:props), not separators",
        `zfs_want=(${sets.map(shq).join(" ")})`,
        "zfs_sets=()",
        `for zfs_kv in "\${zfs_want[@]}"; do`,
        `  if ! hearth_zfs_has "$ds" "$zfs_kv"; then zfs_sets+=("$zfs_kv"); fi`,
        "done",
        `zfs_keep=${shq(`,${propsList(spec)},`)}`,
        "zfs_unsets=()",
        `IFS=, read -r -a zfs_old <<<"$(hearth_zfs_get "$ds" ${PROPS_PROP})"`,
        `for zfs_p in "\${zfs_old[@]}"; do`,
        // The old list comes from the host; only plain property names are ever passed back to zfs.
        `  if [[ ! $zfs_p =~ ^[a-z0-9_][a-z0-9_.:+-]*$ ]] || [[ $zfs_p == hearth:* ]]; then continue; fi`,
        `  case $zfs_keep in *",$zfs_p,"*) continue ;; esac`,
        `  if [ "$(zfs get -H -o source "$zfs_p" "$ds")" = local ]; then zfs_unsets+=("$zfs_p"); fi`,
        "done",
        `if [ "\${#zfs_sets[@]}" -gt 0 ] || [ "\${#zfs_unsets[@]}" -gt 0 ]; then`,
        `  if [ "$zfs_created" = 0 ]; then hearth_zfs_snapshot_before "$ds" ${changeId(sets)}; fi`,
        // Inherits first: hearth:props (set last) keeps naming a dropped property until it really was inherited.
        `  for zfs_p in "\${zfs_unsets[@]}"; do hearth_zfs_inherit "$ds" "$zfs_p"; done`,
        `  for zfs_kv in "\${zfs_sets[@]}"; do`,
        // A new mountpoint on a mounted dataset means a remount, which zfs-fuse refuses while mounted.
        `    if [[ $zfs_kv == mountpoint=* ]]; then hearth_zfs_unmount "$ds"; fi`,
        `    hearth_zfs_set "$ds" "$zfs_kv"`,
        "  done",
        `elif [ "$zfs_created" = 0 ]; then`,
        `  hearth_say "$ds unchanged"`,
        "fi",
        // Whatever an earlier, interrupted run left unmounted (a rename, a mountpoint change) is mounted again here.
        `hearth_zfs_mount "$ds"`,
        // Level-triggered clean-up after a change of 'dataset' without previousNames: any other dataset carrying this
        // resource's mark is no longer its dataset. Its data is kept; only the mark goes.
        `zfs_marked=$(zfs get -H -o name,value -s local ${OWNER_PROP})`,
        `while IFS=$'\\t' read -r zfs_name zfs_mark; do`,
        `  if [ "$zfs_mark" = "$hearth_owner" ] && [ "$zfs_name" != "$ds" ] && [[ $zfs_name != *@* ]]; then`,
        `    hearth_zfs_forget "$zfs_name"`,
        `    hearth_zfs_disown "$zfs_name"`,
        `    hearth_say "$zfs_name carried this resource's mark but is no longer its dataset: kept with its data and snapshots, no longer managed by hearth"`,
        "  fi",
        `done <<<"$zfs_marked"`,
    );
    // Installed after the dataset converged: the timer that runs it is created after this command.
    if (spec.autosnap) s.install({ path: AUTOSNAP_TOOL, content: AUTOSNAP_SCRIPT, mode: 0o755 });
    s.raw(ZFS_MOUNTPOINT.emit(`$(hearth_zfs_get "$ds" mountpoint)`));
    return s;
}

export function renderDelete(spec: DatasetSpec, mark: OwnerMark): string {
    const s = new Script(`zfs dataset ${spec.dataset} (delete)`).owner(mark);
    s.raw("hearth_lock zfs", `ds=${shq(spec.dataset)}`, `pool=${shq(poolOf(spec.dataset))}`);
    poolCheck(s);
    s.raw(
        `if ! hearth_zfs_exists "$ds"; then hearth_say "$ds does not exist; nothing to do"; exit 0; fi`,
        `zfs_found=$(hearth_zfs_mark "$ds")`,
        // Only what this resource owns is touched: a dataset another resource took over stays as it is.
        `if ! hearth_mine "$zfs_found"; then`,
        `  if [ -z "$zfs_found" ]; then hearth_say "$ds is not managed by hearth; left untouched"; else hearth_say "$ds is owned by $zfs_found, not by $hearth_owner; left untouched"; fi`,
        "  exit 0",
        "fi",
    );
    if (!spec.destroyOnDelete) {
        s.raw(
            `hearth_zfs_forget "$ds"`,
            `hearth_zfs_disown "$ds"`,
            `hearth_say "$ds kept with its data and snapshots; it is no longer managed by hearth"`,
        );
        return s.render();
    }
    s.raw(
        `zfs_children=$(zfs list -H -o name -r "$ds" | awk -v ds="$ds" '$0 != ds && index($0, "@") == 0')`,
        // Clones can live anywhere in the pool; their origin property names the snapshot they depend on.
        `zfs_clones=$(zfs list -H -o name,origin -r "$pool" | awk -F '\\t' -v p="$ds@" 'index($2, p) == 1 { print $1 }')`,
        `zfs_nchildren=$(printf '%s' "$zfs_children" | grep -c . || true)`,
        `zfs_nclones=$(printf '%s' "$zfs_clones" | grep -c . || true)`,
    );
    if (!spec.recursive) {
        s.raw(
            `if [ "$zfs_nchildren" -gt 0 ] || [ "$zfs_nclones" -gt 0 ]; then`,
            `  hearth_die 65 "refusing to destroy $ds: it has $zfs_nchildren child datasets and $zfs_nclones clones (set recursive: true to destroy them too)"`,
            "fi",
        );
    } else {
        s.raw(
            // recursive widens the destroy to what depends on the dataset (children, clones, their children and clones),
            // but never to a dataset another resource owns or one a delete kept.
            `zfs_doomed=$(hearth_zfs_dependents "$ds" "$pool")`,
            `while IFS= read -r zfs_d; do`,
            `  if [ -z "$zfs_d" ]; then continue; fi`,
            `  zfs_found=$(hearth_zfs_mark "$zfs_d")`,
            `  if [ -n "$zfs_found" ] && ! hearth_mine "$zfs_found"; then hearth_die 65 "refusing to destroy $ds: $zfs_d below or cloned from it is owned by $zfs_found"; fi`,
            // Data a delete said it kept is never taken along by a parent's destroy.
            `  zfs_kept=$(zfs get -H -o value -s local hearth:kept "$zfs_d")`,
            `  if [ -n "$zfs_kept" ]; then hearth_die 65 "refusing to destroy $ds: $zfs_d below or cloned from it holds data kept when $zfs_kept was deleted (move it away, or destroy it by hand)"; fi`,
            `done <<<"$zfs_doomed"`,
            `hearth_say "destroying $ds with $zfs_nchildren children and $zfs_nclones clones (recursive)"`,
            // zfs-fuse refuses to destroy a mounted dataset ("dataset is busy").
            `while IFS= read -r zfs_d; do if [ -n "$zfs_d" ]; then hearth_zfs_unmount "$zfs_d"; fi; done <<<"$zfs_doomed"`,
        );
    }
    s.raw(
        `zfs_all=$(zfs list -H -o name -r "$ds" | awk 'index($0, "@") == 0' | sort -r)`,
        `while IFS= read -r zfs_d; do if [ -n "$zfs_d" ]; then hearth_zfs_unmount "$zfs_d"; fi; done <<<"$zfs_all"`,
        `hearth_zfs_forget "$ds"`,
        // zfs-fuse may report a dataset busy for a moment after its unmount.
        "zfs_gone=0",
        `for _ in $(seq 1 50); do if zfs destroy ${spec.recursive ? "-R" : "-r"} "$ds" 2>/dev/null; then zfs_gone=1; break; fi; sleep 0.2; done`,
        `if [ "$zfs_gone" = 0 ]; then zfs destroy ${spec.recursive ? "-R" : "-r"} "$ds"; fi`,
        "hearth_step",
        `hearth_say "destroyed $ds"`,
    );
    return s.render();
}

/**
 * The dataset's own checks, from the model its converge sets: it exists with this resource's mark, every property
 * hearth sets (hearth:props too) has its value set on the dataset itself, and it is mounted where ZFS mounts it; a
 * clone's origin and an encrypted dataset's key. The snapshot timer is a SystemdService, which checks itself.
 */
export function renderCheck(spec: DatasetSpec, mark: OwnerMark): string[] {
    const sets = [...wanted(spec).map(([k, v]) => `${k}=${v}`), `${PROPS_PROP}=${propsList(spec)}`];
    const out = [["hearth_check_zfs_dataset", spec.dataset, mark.id, ...sets].map(shq).join(" ")];
    if (spec.origin !== undefined) out.push(["hearth_check_zfs_origin", spec.dataset, spec.origin].map(shq).join(" "));
    if (spec.encryption) out.push(["hearth_check_zfs_encrypted", spec.dataset].map(shq).join(" "));
    return out;
}

export function renderDataset(spec: DatasetSpec, mark: OwnerMark): RenderedDataset {
    const s = convergeScript(spec, mark);
    const script = s.render();
    const bodies = s.installedFiles.map((f) => f.content);
    const deleteScript = renderDelete(spec, mark);
    return { script, stdin: frameStdin(bodies), deleteScript, hash: contentHash(script, deleteScript, ...bodies), check: renderCheck(spec, mark) };
}
