// ZfsDataset renderer: resolved dataset spec in, converge and delete scripts out (pure, no Pulumi).
import { Script, contentHash, frameStdin, shq } from "../shell";
import { AUTOSNAP_SCRIPT, AUTOSNAP_TOOL } from "./snapshots";

/** A dataset path `pool/child[/…]`: no `..`, `@`, spaces, leading `-` or trailing `/` can match. */
export const DATASET_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,254}(\/[A-Za-z0-9_][A-Za-z0-9_.:-]{0,254})+$/;
/** The part after `@` in a snapshot name. */
export const SNAPSHOT_LABEL = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,254}$/;
/** A ZFS user property key (must contain a colon); `hearth:` keys are reserved for hearth's own marks. */
export const USER_PROPERTY = /^[a-z0-9_][a-z0-9_.+-]*:[a-z0-9_.:+-]{1,200}$/;
/** Longest dataset name ZFS accepts (ZFS_MAX_DATASET_NAME_LEN - 1). */
export const MAX_DATASET_LENGTH = 255;

/** The ownership mark: hearth changes, renames or destroys only datasets that carry it. */
export const MANAGED_PROP = "hearth:managed";
/** Which properties hearth set last time, so a property dropped from the args is inherited again. */
export const PROPS_PROP = "hearth:props";
/** Where keys of encrypted datasets live: generated on the host, never leaving it. */
export const KEY_DIR = "/etc/hearth/zfs-keys";

/** Compression values that need a pool feature flag, by the feature's name. */
const COMPRESSION_FEATURES: Record<string, string> = { lz4: "lz4_compress", zstd: "zstd_compress" };

export interface DatasetSpec {
    readonly dataset: string;
    /** Native properties in the exact form `zfs get -Hp` prints them (bytes, on/off, canonical names). */
    readonly properties: Readonly<Record<string, string>>;
    readonly userProperties: Readonly<Record<string, string>>;
    readonly encryption: boolean;
    readonly adopt: boolean;
    readonly previousNames: readonly string[];
    /** `pool/ds@snap` to clone from when the dataset does not exist yet. */
    readonly origin?: string;
    readonly destroyOnDelete: boolean;
    readonly recursive: boolean;
    /** Install the shared scheduled-snapshot tool (the dataset has a snapshot timer). */
    readonly autosnap: boolean;
}

export interface RenderedDataset {
    readonly script: string;
    /** The converge script's stdin: the bodies of the files it installs. */
    readonly stdin: string;
    readonly deleteScript: string;
    readonly hash: string;
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

const HELPERS = String.raw`hearth_exists() { zfs list -H -o name "$1" >/dev/null 2>&1; }
hearth_get() { zfs get -H -o value "$1" "$2"; }
hearth_has_feature() {
  local state
  state=$(zpool get -H -o value "feature@$1" "$pool" 2>/dev/null) || return 1
  [ "$state" = enabled ] || [ "$state" = active ]
}
hearth_pool_compression() {
  local s="off on lzjb gzip gzip-1..gzip-9 zle"
  if hearth_has_feature lz4_compress; then s="$s lz4"; fi
  if hearth_has_feature zstd_compress; then s="$s zstd zstd-1..zstd-19"; fi
  echo "$s"
}
hearth_snapshot() {
  if ! hearth_exists "$1@hearth-$hearth_now"; then
    zfs snapshot "$1@hearth-$hearth_now"
    echo "hearth: snapshot $1@hearth-$hearth_now"
  fi
}
hearth_want() {
  local cur
  cur=$(zfs get -Hp -o value,source "$1" "$ds")
  if [ "$cur" != "$2"$'\t'local ]; then hearth_sets+=("$1=$2"); fi
}`;

/** Checks (read-only) that the dataset in shell variable `v` is hearth's, or that the user chose to adopt it. */
function ownedOrAdopted(spec: DatasetSpec, v: string, verb: string): string[] {
    if (spec.adopt) return [`  echo "hearth: adopting $${v}"`];
    return [
        `  if [ "$(hearth_get ${MANAGED_PROP} "$${v}")" != yes ]; then`,
        `    echo "hearth: $${v} exists but is not marked ${MANAGED_PROP}=yes; refusing to ${verb} a dataset hearth does not own (set adopt: true to take it over)" >&2`,
        "    exit 1",
        "  fi",
    ];
}

function convergeScript(spec: DatasetSpec): Script {
    const s = new Script(`zfs dataset ${spec.dataset}`);
    const pool = poolOf(spec.dataset);
    s.raw(
        `ds=${shq(spec.dataset)}`,
        `pool=${shq(pool)}`,
        "hearth_now=$(date -u +%Y%m%dT%H%M%S.%NZ)",
        "hearth_sets=()",
        "hearth_unsets=()",
        "hearth_created=0",
        HELPERS,
        // A failing `zfs list` of the pool means ZFS itself is unusable; every later "does not exist" would be a lie.
        `if ! zfs list -H -o name "$pool" >/dev/null; then`,
        `  echo "hearth: pool $pool is not available (is ZFS running and the pool imported?)" >&2`,
        "  exit 1",
        "fi",
    );
    // Feature checks come first: a pool that cannot do what was asked is refused before anything changes.
    for (const f of requiredFeatures(spec)) {
        const supported = f.property === "compression" ? "it supports compression $(hearth_pool_compression)" : "it supports no native encryption";
        s.raw(
            `if ! hearth_has_feature ${f.feature}; then`,
            `  echo "hearth: property '${f.property}' = ${f.value} needs the pool feature ${f.feature}, which pool $pool does not have; ${supported}" >&2`,
            "  exit 1",
            "fi",
        );
    }
    const createOpts = [`-o ${MANAGED_PROP}=yes`, ...wanted(spec).map(([k, v]) => `-o ${shq(`${k}=${v}`)}`), `-o ${shq(`${PROPS_PROP}=${propsList(spec)}`)}`];
    s.raw(`if hearth_exists "$ds"; then`, "  :");
    for (const prev of spec.previousNames) {
        s.raw(
            `elif hearth_exists ${shq(prev)}; then`,
            `  hearth_prev=${shq(prev)}`,
            ...ownedOrAdopted(spec, "hearth_prev", "rename"),
            `  hearth_snapshot "$hearth_prev"`,
            // Unmounted first: zfs-fuse refuses to rename a mounted dataset ("dataset is busy"); it is mounted again below.
            `  if [ "$(hearth_get mounted "$hearth_prev")" = yes ]; then zfs unmount "$hearth_prev"; fi`,
            `  zfs rename -p "$hearth_prev" "$ds"`,
            `  echo "hearth: renamed $hearth_prev to $ds"`,
        );
    }
    s.raw("else");
    if (spec.origin !== undefined) {
        s.raw(
            `  hearth_origin=${shq(spec.origin)}`,
            `  if ! hearth_exists "$hearth_origin"; then echo "hearth: origin snapshot $hearth_origin does not exist" >&2; exit 1; fi`,
            `  zfs clone -p ${createOpts.join(" ")} "$hearth_origin" "$ds"`,
            `  echo "hearth: cloned $hearth_origin to $ds"`,
        );
    } else {
        if (spec.encryption) {
            const key = keyPath(spec.dataset);
            s.raw(
                `  hearth_key=${shq(key)}`,
                `  if [ ! -s "$hearth_key" ]; then`,
                `    mkdir -p -- "$(dirname -- "$hearth_key")"`,
                `    chmod 0700 -- ${shq(KEY_DIR)}`,
                `    head -c 32 /dev/urandom > "$hearth_key.new"`,
                `    chmod 0400 -- "$hearth_key.new"`,
                `    mv -f -T -- "$hearth_key.new" "$hearth_key"`,
                "  fi",
                `  zfs create -p -o encryption=aes-256-gcm -o keyformat=raw -o "keylocation=file://$hearth_key" ${createOpts.join(" ")} "$ds"`,
            );
        } else {
            s.raw(`  zfs create -p ${createOpts.join(" ")} "$ds"`);
        }
        s.raw(`  echo "hearth: created $ds"`);
    }
    s.raw("  hearth_created=1", "fi");
    if (spec.previousNames.length) {
        s.raw(
            `for hearth_prev in ${spec.previousNames.map(shq).join(" ")}; do`,
            `  if hearth_exists "$hearth_prev"; then echo "hearth: warning: $hearth_prev still exists beside $ds; left untouched" >&2; fi`,
            "done",
        );
    }
    s.raw(`if [ "$hearth_created" = 0 ]; then`, ...ownedOrAdopted(spec, "ds", "change"), "fi");
    if (spec.encryption) {
        s.raw(
            `if [ "$(hearth_get encryption "$ds")" = off ]; then`,
            `  echo "hearth: property 'encryption' can only be chosen when a dataset is created; $ds exists unencrypted (copy the data into a new encrypted dataset instead)" >&2`,
            "  exit 1",
            "fi",
        );
    }
    s.raw(`hearth_want ${MANAGED_PROP} yes`);
    for (const [k, v] of wanted(spec)) s.raw(`hearth_want ${shq(k)} ${shq(v)}`);
    s.raw(
        `hearth_want ${PROPS_PROP} ${shq(propsList(spec))}`,
        `hearth_props=${shq(`,${propsList(spec)},`)}`,
        `IFS=, read -r -a hearth_old <<< "$(hearth_get ${PROPS_PROP} "$ds")"`,
        `for p in "\${hearth_old[@]}"; do`,
        // The old list comes from the host; only plain property names are ever passed back to zfs.
        `  if [[ ! $p =~ ^[a-z0-9_][a-z0-9_.:+-]*$ ]] || [[ $p == hearth:* ]] || [ "$p" = none ]; then continue; fi`,
        `  case $hearth_props in *",$p,"*) ;; *) hearth_unsets+=("$p") ;; esac`,
        "done",
        `if [ "\${#hearth_sets[@]}" -gt 0 ] || [ "\${#hearth_unsets[@]}" -gt 0 ]; then`,
        `  if [ "$hearth_created" = 0 ]; then hearth_snapshot "$ds"; fi`,
        // Inherits first: hearth:props (set last) keeps naming a dropped property until it really was inherited.
        `  for p in "\${hearth_unsets[@]}"; do zfs inherit "$p" "$ds"; echo "hearth: inherit $p"; done`,
        `  for kv in "\${hearth_sets[@]}"; do`,
        // A new mountpoint on a mounted dataset means a remount, which zfs-fuse refuses while mounted.
        `    if [[ $kv == mountpoint=* ]] && [ "$(hearth_get mounted "$ds")" = yes ]; then zfs unmount "$ds"; fi`,
        `    zfs set "$kv" "$ds"`,
        `    echo "hearth: set $kv"`,
        "  done",
        "elif [ \"$hearth_created\" = 0 ]; then",
        `  echo "hearth: $ds unchanged"`,
        "fi",
        // Whatever an earlier, interrupted run left unmounted (a rename, a mountpoint change) is mounted again here.
        `if [ "$(hearth_get canmount "$ds")" = on ] && [[ $(hearth_get mountpoint "$ds") == /* ]] && [ "$(hearth_get mounted "$ds")" = no ]; then`,
        `  zfs mount "$ds"`,
        `  echo "hearth: mounted $ds"`,
        "fi",
        `echo "hearth: mountpoint=$(hearth_get mountpoint "$ds")"`,
    );
    // Installed after the dataset converged: the timer that runs it is created after this command.
    if (spec.autosnap) s.install({ path: AUTOSNAP_TOOL, content: AUTOSNAP_SCRIPT, mode: 0o755 });
    return s;
}

export function renderConverge(spec: DatasetSpec): string {
    return convergeScript(spec).render();
}

export function renderDelete(spec: DatasetSpec): string {
    const s = new Script(`zfs dataset ${spec.dataset} (delete)`);
    s.raw(
        `ds=${shq(spec.dataset)}`,
        `pool=${shq(poolOf(spec.dataset))}`,
        `if ! zfs list -H -o name "$pool" >/dev/null; then echo "hearth: pool $pool is not available" >&2; exit 1; fi`,
        `if ! zfs list -H -o name "$ds" >/dev/null 2>&1; then echo "hearth: $ds does not exist; nothing to do"; exit 0; fi`,
        `if [ "$(zfs get -H -o value ${MANAGED_PROP} "$ds")" != yes ]; then echo "hearth: $ds is not managed by hearth; left untouched"; exit 0; fi`,
    );
    if (!spec.destroyOnDelete) {
        s.raw(
            `zfs inherit ${MANAGED_PROP} "$ds"`,
            `zfs inherit ${PROPS_PROP} "$ds"`,
            `echo "hearth: $ds kept with its data and snapshots; it is no longer managed by hearth"`,
        );
        return s.render();
    }
    s.raw(
        `hearth_children=$(zfs list -H -o name -r "$ds" | awk -v ds="$ds" '$0 != ds && index($0, "@") == 0' | wc -l)`,
        // Clones can live anywhere in the pool; their origin property names the snapshot they depend on.
        `hearth_clones=$(zfs list -H -o name,origin -r "$pool" | awk -F '\\t' -v p="$ds@" 'index($2, p) == 1 { print $1 }' | wc -l)`,
    );
    if (!spec.recursive) {
        s.raw(
            `if [ "$hearth_children" -gt 0 ] || [ "$hearth_clones" -gt 0 ]; then`,
            `  echo "hearth: refusing to destroy $ds: it has $hearth_children child datasets and $hearth_clones clones (set recursive: true to destroy them too)" >&2`,
            "  exit 1",
            "fi",
        );
    } else {
        s.raw(`echo "hearth: destroying $ds with $hearth_children children and $hearth_clones clones (recursive)"`);
    }
    s.raw(
        // zfs-fuse refuses to destroy a mounted dataset ("dataset is busy"); a file just closed can hold it a moment.
        "hearth_unmount() {",
        '  if [ "$(zfs get -H -o value mounted "$1")" != yes ]; then return 0; fi',
        '  for _ in $(seq 1 50); do zfs unmount "$1" 2>/dev/null && return 0; sleep 0.2; done',
        '  zfs unmount "$1"',
        "}",
        ...(spec.recursive
            ? [`zfs list -H -o name,origin -r "$pool" | awk -F '\\t' -v p="$ds@" 'index($2, p) == 1 { print $1 }' | while IFS= read -r d; do hearth_unmount "$d"; done`]
            : []),
        `zfs list -H -o name -r "$ds" | awk 'index($0, "@") == 0' | sort -r | while IFS= read -r d; do hearth_unmount "$d"; done`,
        // zfs-fuse may report a dataset busy for a moment after its unmount.
        "hearth_gone=0",
        `for _ in $(seq 1 50); do if zfs destroy ${spec.recursive ? "-R" : "-r"} "$ds" 2>/dev/null; then hearth_gone=1; break; fi; sleep 0.2; done`,
        `if [ "$hearth_gone" = 0 ]; then zfs destroy ${spec.recursive ? "-R" : "-r"} "$ds"; fi`,
    );
    s.raw(`echo "hearth: destroyed $ds"`);
    return s.render();
}

export function renderDataset(spec: DatasetSpec): RenderedDataset {
    const s = convergeScript(spec);
    const script = s.render();
    const bodies = s.installedFiles.map((f) => f.content);
    const deleteScript = renderDelete(spec);
    return { script, stdin: frameStdin(bodies), deleteScript, hash: contentHash(script, deleteScript, ...bodies) };
}
