// WireGuard renderer: the wg-quick config (no key inside), the key script, the converge and delete scripts. Pure.
//
// Every script is a call sequence over the runtime (components/core/runtime.sh). What decides a start, restart or
// reload is host state: the digest of the installed config, key loader and preshared keys against what was recorded
// (`hearth_applied wireguard/<iface>`) after the last reload or restart succeeded, and the interface's public key
// against the key file's. A private key is generated only when its file is absent, so no crash can regenerate one.
// The interface config carries its owner's mark (`# hearth-owner: <id>`); another owner's interface is refused.
import { OwnerMark } from "../core/owner";
import { WG_PUBLIC_KEY } from "../core/protocols";
import { RenderedFile, Script, shq } from "../shell";

/** The key script's stdout protocol parser (components/core/protocols.ts), under the name the host specs use. */
export const parsePublicKey = WG_PUBLIC_KEY.parse;

/** A peer as one side's config lists it (everything resolved: public keys are known here, unless pending). */
export interface WgPeer {
    /** Side name, written as a comment so a person can tell peers apart. */
    readonly name: string;
    /** The peer's public key; undefined while pending (its stack has not run yet), and then it is left out. */
    readonly publicKey?: string;
    /** `host:port` / `[v6]:port`, or undefined when this peer dials in. */
    readonly endpoint?: string;
    readonly allowedIps: readonly string[];
    readonly keepaliveSec?: number;
    /** Whether a preshared key for this pair is installed (`<if>.<peer>.psk`). */
    readonly presharedKey: boolean;
}

/** One managed side's interface, fully resolved. */
export interface WgInterface {
    /** Link (component) name, for comments and script titles. */
    readonly link: string;
    readonly side: string;
    readonly interfaceName: string;
    readonly addresses: readonly string[];
    readonly listenPort?: number;
    readonly mtu: number;
    readonly keyVersion: number;
    readonly peers: readonly WgPeer[];
    /** The resource that owns this interface on its host. */
    readonly mark: OwnerMark;
}

/** The peers whose keys are known: a pending peer is left out of every file, but not out of the script's shape. */
export function livePeers(i: Pick<WgInterface, "peers">): (WgPeer & { readonly publicKey: string })[] {
    return i.peers.filter((p): p is WgPeer & { readonly publicKey: string } => p.publicKey !== undefined);
}

export const WG_DIR = "/etc/wireguard";
export const STAGE_DIR = "/etc/wireguard/.hearth";
const MARK = "# hearth: WireGuard link";

/** Where wg reads the private key: a link to the file of the current key version. */
export function keyPath(ifname: string): string {
    return `${WG_DIR}/${ifname}.key`;
}

/** The private key file of one key version; generated on the host only when it is absent. */
export function versionedKeyPath(ifname: string, keyVersion: number): string {
    return `${keyPath(ifname)}.v${keyVersion}`;
}

/** The first line of a config written by earlier releases (a shared mark naming the link and side). */
export function legacyMark(link: string, side: string): string {
    return `${MARK} ${oneLine(link)}, side ${oneLine(side)}. Managed by hearth: edits are overwritten.`;
}

/** The owner line every file hearth writes for an interface carries. */
function ownerLine(mark: OwnerMark): string {
    return `# hearth-owner: ${oneLine(mark.id)}`;
}

export function pskPath(ifname: string, peer: string): string {
    return `${WG_DIR}/${ifname}.${peer}.psk`;
}

/** The one wg config serializer: values are checked to be one line with no comment character wg-quick would cut at. */
function serialize(sections: ReadonlyArray<{ header: string; comment?: string; entries: ReadonlyArray<readonly [string, string | number | undefined]> }>, preamble: string[]): string {
    const out = [...preamble];
    for (const s of sections) {
        out.push("");
        if (s.comment !== undefined) out.push(`# ${oneLine(s.comment)}`);
        out.push(`[${s.header}]`);
        for (const [k, v] of s.entries) {
            if (v === undefined) continue;
            const text = String(v);
            if (!/^[\x20-\x22\x24-\x7e]+$/.test(text)) throw new Error(`wg config value for ${k} must be one line of printable ASCII without '#': ${JSON.stringify(text)}`);
            out.push(`${k} = ${text}`);
        }
    }
    return out.join("\n") + "\n";
}

function oneLine(s: string): string {
    if (/[\r\n]/.test(s)) throw new Error(`comment must be one line: ${JSON.stringify(s)}`);
    return s;
}

export function loaderPath(ifname: string): string {
    return `${WG_DIR}/${ifname}.hearth-keys`;
}

/**
 * The key loader wg-quick runs as PostUp (and the converge script after a live reload, since `wg syncconf` with a
 * keyless config re-adds changed peers without their preshared keys). Peer public keys live here, not in the
 * converge script, so the script text never depends on another side's outputs.
 */
export function renderKeyLoader(i: WgInterface): string {
    return [
        "#!/bin/bash",
        `# hearth: loads the keys of ${i.interfaceName} (link ${oneLine(i.link)}); run by wg-quick PostUp and after a reload.`,
        ownerLine(i.mark),
        "set -euo pipefail",
        `wg set "$1" private-key ${shq(keyPath(i.interfaceName))}`,
        ...livePeers(i).filter((p) => p.presharedKey).map((p) => `wg set "$1" peer ${shq(p.publicKey)} preshared-key ${shq(pskPath(i.interfaceName, p.name))}`),
        "",
    ].join("\n");
}

/**
 * The wg-quick config. It carries no secret: wg-quick brings the interface up without a private key and PostUp
 * runs the key loader, which loads it (and preshared keys) from 0600 files on the host.
 */
export function renderConfig(i: WgInterface): string {
    return serialize(
        [
            {
                header: "Interface",
                entries: [
                    ...i.addresses.map((a) => ["Address", a] as const),
                    ["ListenPort", i.listenPort],
                    ["MTU", i.mtu],
                    ["PostUp", `${loaderPath(i.interfaceName)} %i`],
                ],
            },
            ...livePeers(i).map((p) => ({
                header: "Peer",
                comment: p.name,
                entries: [
                    ["PublicKey", p.publicKey],
                    ["AllowedIPs", p.allowedIps.join(", ")],
                    ["Endpoint", p.endpoint],
                    ["PersistentKeepalive", p.keepaliveSec],
                ] as const,
            })),
        ],
        [
            `${MARK} ${oneLine(i.link)}, side ${oneLine(i.side)}. Managed by hearth: edits are overwritten.`,
            ownerLine(i.mark),
            `# The private key stays in ${keyPath(i.interfaceName)} on this host.`,
        ],
    );
}

/**
 * What forces a restart rather than a live reload: addresses, MTU and routes (wg-quick adds a route per
 * AllowedIPs entry only when it brings the interface up). Keys, endpoints and keepalives reload in place.
 */
export function renderRestartStamp(i: WgInterface): string {
    return [`addresses ${i.addresses.join(" ")}`, `mtu ${i.mtu}`, ...livePeers(i).map((p) => `routes ${p.name} ${p.allowedIps.join(" ")}`)].join("\n") + "\n";
}

/**
 * What the probe leaves out: the listen port (the live interface holds it: "Address already in use"; hearth checked
 * the number) and endpoints given by DNS name (`wg setconf` would resolve them, and retry for a minute when DNS is
 * down, which proves nothing about the config). IP literal endpoints stay and are checked.
 */
export const PROBE_FILTER = String.raw`sed -E -e '/^ListenPort = /d' -e '/^Endpoint = /{/^Endpoint = (\[|[0-9.]+:)/!d}'`;

/** Fails unless a host has wg, wg-quick and ip. */
const TOOLS = String.raw`for hearth_tool in wg wg-quick ip; do
  command -v "$hearth_tool" >/dev/null || hearth_die 69 "$hearth_tool is missing: install wireguard-tools and iproute2"
done`;

/** One lock for every WireGuard script on a host: they share /etc/wireguard and its stage directory. */
const LOCK = "hearth_lock wireguard";

/**
 * Refuses (touching nothing) an interface whose config another resource owns; a config an earlier release wrote for
 * this link and side is taken over (the converge rewrites its mark).
 */
function claimLines(ifname: string, link: string, side: string): string[] {
    const live = `${WG_DIR}/${ifname}.conf`;
    return [
        `hearth_found=$(hearth_file_owner ${shq(live)} ${shq(legacyMark(link, side))})`,
        `if [ -e ${shq(live)} ] || [ -L ${shq(live)} ]; then hearth_claim ${shq(`WireGuard interface ${ifname} (${live})`)} "$hearth_found"; fi`,
    ];
}

/**
 * Takes interface `$hearth_if` down and removes everything hearth installed for it, its config last (the config
 * carries the mark, so a run killed half way finds it again). `keys` also removes its private keys (when the
 * interface was renamed; on delete the key command removes them).
 */
function retireLines(keys: boolean): string[] {
    const d = shq(WG_DIR);
    const st = shq(STAGE_DIR);
    return [
        String.raw`if systemctl is-enabled --quiet "wg-quick@$hearth_if.service" 2>/dev/null || systemctl is-active --quiet "wg-quick@$hearth_if.service"; then`,
        String.raw`  systemctl disable --now --no-reload --quiet "wg-quick@$hearth_if.service"`,
        "  hearth_step",
        "fi",
        String.raw`if ip link show dev "$hearth_if" >/dev/null 2>&1; then`,
        String.raw`  ip link del dev "$hearth_if"`,
        "  hearth_step",
        "fi",
        `for hearth_f in ${d}/"$hearth_if".*.psk ${d}/"$hearth_if".hearth-keys ${st}/"$hearth_if".hearth-keys ${st}/"$hearth_if".restart ${st}/"$hearth_if".restart-live ${st}/"$hearth_if".conf; do`,
        '  hearth_remove "$hearth_f"',
        "done",
        ...(keys ? [
            `for hearth_f in ${d}/"$hearth_if".key ${d}/"$hearth_if".key.v* ${d}/"$hearth_if".key-version; do`,
            '  hearth_remove "$hearth_f"',
            "done",
        ] : []),
        `hearth_rmdir ${st}`,
        'hearth_forget "wireguard/$hearth_if"',
        `hearth_remove ${d}/"$hearth_if".conf`,
        'hearth_say "removed WireGuard interface $hearth_if"',
    ];
}

/**
 * Prints the interface's public key as `hearth-wg-public-key: KEY`. The private key of `keyVersion` is generated on
 * the host only when its file is absent (a crash can never regenerate one); `<if>.key` then links to it, the
 * running interface is given it when its public key differs, and older versions are removed. The private key never
 * leaves the host: stdout carries only the public key.
 */
export function renderKeyScript(ifname: string, keyVersion: number, mark: OwnerMark, link: string, side: string): Script {
    const key = keyPath(ifname);
    const vkey = versionedKeyPath(ifname, keyVersion);
    const vname = vkey.slice(WG_DIR.length + 1);
    const s = new Script(`WireGuard key for ${ifname}`).owner(mark).raw(TOOLS, LOCK, `hearth_dir ${shq(WG_DIR)} 0700`, ...claimLines(ifname, link, side));
    s.raw(
        `hearth_key=${shq(key)}`,
        `hearth_vkey=${shq(vkey)}`,
        `hearth_want=${keyVersion}`,
        // An earlier release kept the key in <if>.key with its version beside it: keep that key when it is this version.
        String.raw`if [ ! -e "$hearth_vkey" ] && [ -f "$hearth_key" ] && [ ! -L "$hearth_key" ] && [ "$(cat -- "$hearth_key-version" 2>/dev/null || true)" = "$hearth_want" ]; then
  mv -f -T -- "$hearth_key" "$hearth_vkey"
  hearth_step
  hearth_say "kept the private key (version $hearth_want) an earlier release generated"
fi
if [ ! -e "$hearth_vkey" ]; then
  hearth_tmp_in ${shq(WG_DIR)}
  wg genkey >"$hearth_tmp"
  hearth_put "$hearth_tmp" "$hearth_vkey" 0600 root root
  hearth_say "generated a private key (version $hearth_want) in $hearth_vkey"
fi
if [ ! -f "$hearth_vkey" ] || [ -L "$hearth_vkey" ] || [ "$(stat -c '%a %U' -- "$hearth_vkey")" != "600 root" ]; then
  hearth_die 65 "$hearth_vkey is not a root-owned 0600 file; move it away"
fi
if ! [ -L "$hearth_key" ] || [ "$(readlink -- "$hearth_key")" != ${shq(vname)} ]; then
  hearth_tmp_in ${shq(WG_DIR)}
  ln -sfn -- ${shq(vname)} "$hearth_tmp"
  mv -f -T -- "$hearth_tmp" "$hearth_key"
  hearth_step
fi
hearth_pub=$(wg pubkey <"$hearth_key")
if ip link show dev ${shq(ifname)} >/dev/null 2>&1 && [ "$(wg show ${shq(ifname)} public-key 2>/dev/null || true)" != "$hearth_pub" ]; then
  wg set ${shq(ifname)} private-key "$hearth_key"
  hearth_step
fi
for hearth_f in ${shq(WG_DIR)}/${shq(ifname)}.key.v* ${shq(`${key}-version`)}; do
  if [ "$hearth_f" != "$hearth_vkey" ]; then hearth_remove "$hearth_f"; fi
done
${WG_PUBLIC_KEY.emit('"$hearth_pub"')}`,
    );
    return s;
}

/** Removes the keys of an interface (after the interface itself is gone), unless another resource owns it now. */
export function renderKeyDeleteScript(ifname: string, mark: OwnerMark, link: string, side: string): Script {
    const live = `${WG_DIR}/${ifname}.conf`;
    const key = keyPath(ifname);
    return new Script(`remove WireGuard keys of ${ifname}`).owner(mark).raw(
        LOCK,
        `hearth_found=$(hearth_file_owner ${shq(live)} ${shq(legacyMark(link, side))})`,
        `if [ -e ${shq(live)} ] && ! hearth_mine "$hearth_found"; then`,
        `  hearth_say ${shq(`leaving the keys of ${ifname} alone: the interface is owned by`)}" $hearth_found, not $hearth_owner"`,
        "  exit 0",
        "fi",
        `for hearth_f in ${shq(key)} ${shq(WG_DIR)}/${shq(ifname)}.key.v* ${shq(`${key}-version`)}; do`,
        '  hearth_remove "$hearth_f"',
        "done",
    );
}

export interface WgConverge {
    /** The script text: depends only on the link's shape (names, which peers have a preshared key), never on keys. */
    readonly script: string;
    /** Files whose bodies are the first stdin frames, in order; preshared keys follow, one per `pskPeers` entry. */
    readonly files: readonly RenderedFile[];
    /** Peers whose preshared key frames follow the files, in order. */
    readonly pskPeers: readonly string[];
}

/**
 * Converges one side: refuses an interface another resource owns, retires interfaces this resource owned under
 * another name, stages the config, key loader and restart stamp, proves the config with `wg setconf` on a throwaway
 * interface (`wg-quick strip` alone does not validate), installs config, loader and preshared keys, then starts,
 * restarts or reloads wg-quick@ as the host state asks (see the file comment), and records what it applied.
 */
export function renderConverge(i: WgInterface): WgConverge {
    const ifc = i.interfaceName;
    const stage = `${STAGE_DIR}/${ifc}.conf`;
    const live = `${WG_DIR}/${ifc}.conf`;
    const stageLoader = `${STAGE_DIR}/${ifc}.hearth-keys`;
    const loader = loaderPath(ifc);
    const stamp = `${STAGE_DIR}/${ifc}.restart`;
    const unit = `wg-quick@${ifc}.service`;
    const s = new Script(`WireGuard ${ifc} for link ${i.link}, side ${i.side}`).owner(i.mark).raw(TOOLS, LOCK, `hearth_dir ${shq(WG_DIR)} 0700`);
    s.raw(`if [ ! -f ${shq(keyPath(ifc))} ]; then hearth_die 66 ${shq(`no private key in ${keyPath(ifc)}: the key step did not run`)}; fi`);
    s.raw(...claimLines(ifc, i.link, i.side));
    // The interface was renamed within this resource: what the old name owned goes (found by this resource's mark).
    s.raw(
        `mapfile -t hearth_olds < <(hearth_marked ${shq(WG_DIR)}/*.conf)`,
        'for hearth_old in "${hearth_olds[@]}"; do',
        `  if [ "$hearth_old" = ${shq(live)} ]; then continue; fi`,
        `  hearth_if=\${hearth_old#${WG_DIR}/}`,
        "  hearth_if=${hearth_if%.conf}",
        "  if ! [[ $hearth_if =~ ^[a-z][a-z0-9_-]{0,14}$ ]]; then continue; fi",
        ...retireLines(true).map((l) => `  ${l}`),
        "done",
    );
    s.raw(`hearth_dir ${shq(STAGE_DIR)} 0700`);
    s.install({ path: stage, content: renderConfig(i), mode: 0o600 });
    s.install({ path: stageLoader, content: renderKeyLoader(i), mode: 0o700 });
    s.install({ path: stamp, content: renderRestartStamp(i), mode: 0o600 });
    // The probe changes nothing that outlives it (its interface is deleted before the next step).
    s.raw(String.raw`hearth_probe=hwv$$
hearth_pid=
if ip link add dev "$hearth_probe" type wireguard 2>/dev/null; then :
elif command -v wireguard-go >/dev/null; then
  WG_PROCESS_FOREGROUND=1 wireguard-go "$hearth_probe" >/dev/null 2>&1 &
  hearth_pid=$!
  for _ in $(seq 50); do [ -S "/var/run/wireguard/$hearth_probe.sock" ] && break; sleep 0.1; done
else
  hearth_die 69 "no WireGuard here: neither the kernel module nor wireguard-go"
fi
hearth_ok=0
if wg-quick strip ${shq(stage)} | ${PROBE_FILTER} | wg setconf "$hearth_probe" /dev/stdin >&2; then hearth_ok=1; fi
if [ -n "$hearth_pid" ]; then kill "$hearth_pid" 2>/dev/null || true; wait "$hearth_pid" 2>/dev/null || true; fi
ip link del dev "$hearth_probe" 2>/dev/null || true
[ "$hearth_ok" = 1 ] || hearth_die 65 ${shq(`wg setconf rejected the config for ${ifc}; the live one is untouched`)}`);
    // Promote the proven files: a copy in the live directory, renamed over the live file when it differs.
    for (const [from, to, mode] of [[stageLoader, loader, "0700"], [stage, live, "0600"]] as const) {
        s.raw(`hearth_tmp_in ${shq(WG_DIR)}`, `cat -- ${shq(from)} >"$hearth_tmp"`, `hearth_put "$hearth_tmp" ${shq(to)} ${mode} root root`);
    }
    const pskPeers = i.peers.filter((x) => x.presharedKey).map((p) => p.name);
    for (const name of pskPeers) s.raw(`hearth_install_secret ${shq(pskPath(ifc, name))}`);
    const known = pskPeers.map((n) => shq(pskPath(ifc, n))).join("|") || "''";
    s.raw(
        `for hearth_f in ${shq(WG_DIR)}/${shq(ifc)}.*.psk ${shq(`${STAGE_DIR}/${ifc}.restart-live`)}; do`,
        `  case $hearth_f in ${known}) ;; *) hearth_remove "$hearth_f" ;; esac`,
        "done",
    );
    const digestOf = [live, loader, ...pskPeers.map((n) => pskPath(ifc, n))].map(shq).join(" ");
    s.raw(
        `hearth_want="$(hearth_digest ${digestOf}) $(hearth_digest ${shq(stamp)})"`,
        `hearth_was=$(hearth_applied ${shq(`wireguard/${ifc}`)})`,
        `if ! systemctl is-enabled --quiet ${shq(unit)}; then`,
        `  systemctl enable --no-reload --quiet ${shq(unit)}`,
        "  hearth_step",
        "fi",
        `if ! systemctl is-active --quiet ${shq(unit)}; then`,
        `  systemctl start ${shq(unit)}`,
        "  hearth_step",
        `  hearth_say ${shq(`started ${unit}`)}`,
        // Addresses, MTU or routes differ from what the interface was brought up with: only a restart applies them.
        'elif [ "${hearth_was#* }" != "${hearth_want#* }" ]; then',
        `  systemctl restart ${shq(unit)}`,
        "  hearth_step",
        `  hearth_say ${shq(`restarted ${unit}`)}`,
        'elif [ "$hearth_was" != "$hearth_want" ]; then',
        // wg syncconf with a keyless config re-adds changed peers without their preshared keys: load them again.
        `  systemctl reload ${shq(unit)}`,
        "  hearth_step",
        `  ${shq(loader)} ${shq(ifc)}`,
        "  hearth_step",
        `  hearth_say ${shq(`reloaded ${unit}`)}`,
        "fi",
        // The running interface drifted from the installed config (taken down, a peer removed or changed by hand):
        // down or gone takes a restart; anything else a reload, which re-syncs the peers, then the keys again.
        `hearth_drifts=$(hearth_wg_diff ${shq(ifc)} ${shq(live)} ${shq(keyPath(ifc))} | cut -f1,2)`,
        `if [[ $'\\n'$hearth_drifts == *$'\\n'"drift"$'\\t'"interface "* ]]; then`,
        `  systemctl restart ${shq(unit)}`,
        "  hearth_step",
        `  hearth_say ${shq(`restarted ${unit}: the interface was down or gone`)}`,
        `elif [[ $'\\n'$hearth_drifts == *$'\\n'"drift"$'\\t'* ]]; then`,
        `  systemctl reload ${shq(unit)}`,
        "  hearth_step",
        `  ${shq(loader)} ${shq(ifc)}`,
        "  hearth_step",
        `  hearth_say ${shq(`reloaded ${unit}: its peers differed from the config`)}`,
        "fi",
        `if [ "$(wg show ${shq(ifc)} public-key)" != "$(wg pubkey <${shq(keyPath(ifc))})" ]; then`,
        `  ${shq(loader)} ${shq(ifc)}`,
        "  hearth_step",
        "fi",
        `hearth_record ${shq(`wireguard/${ifc}`)} "$hearth_want"`,
    );
    return { script: s.render(), files: s.installedFiles, pskPeers };
}

/**
 * The side's own drift checks (core/check.ts): the live config and key loader are the staged ones the converge proved,
 * and the running interface is up with the installed config's peers and the installed key's public half. Paths only:
 * the desired keys are born on other hosts, so the host compares its running state with its own files.
 */
export function renderCheck(i: Pick<WgInterface, "interfaceName">): string[] {
    const ifc = i.interfaceName;
    return [
        ["hearth_check_wireguard", ifc, `${WG_DIR}/${ifc}.conf`, `${STAGE_DIR}/${ifc}.conf`, loaderPath(ifc), `${STAGE_DIR}/${ifc}.hearth-keys`, keyPath(ifc)].map(shq).join(" "),
    ];
}

/**
 * Stops and disables the interface and removes its config, loader, stage files and preshared keys (the key
 * command removes the keys), when this resource owns it; otherwise touches nothing and says so.
 */
export function renderDeleteScript(i: Pick<WgInterface, "interfaceName" | "link" | "side" | "mark">): Script {
    const ifc = i.interfaceName;
    const live = `${WG_DIR}/${ifc}.conf`;
    const stage = `${STAGE_DIR}/${ifc}.conf`;
    const s = new Script(`remove WireGuard ${ifc}`).owner(i.mark).raw(LOCK);
    s.raw(
        `hearth_found=$(hearth_file_owner ${shq(live)} ${shq(legacyMark(i.link, i.side))})`,
        `if [ ! -e ${shq(live)} ]; then hearth_found=$(hearth_file_owner ${shq(stage)} ${shq(legacyMark(i.link, i.side))}); fi`,
        `if [ ! -e ${shq(live)} ] && [ ! -e ${shq(stage)} ]; then`,
        `  hearth_say ${shq(`WireGuard ${ifc}: nothing of it is left to remove`)}`,
        "  exit 0",
        "fi",
        'if ! hearth_mine "$hearth_found"; then',
        `  hearth_say ${shq(`leaving WireGuard ${ifc} alone: it is owned by`)}" \${hearth_found:-no hearth resource}, not $hearth_owner"`,
        "  exit 0",
        "fi",
        `hearth_if=${shq(ifc)}`,
        ...retireLines(false),
    );
    return s;
}
