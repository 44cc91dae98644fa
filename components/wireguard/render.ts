// WireGuard renderer: the wg-quick config (no key inside), the key script, the converge and delete scripts. Pure.
import { RenderedFile, Script, shq } from "../shell";

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
}

/** The peers whose keys are known: a pending peer is left out of every file, but not out of the script's shape. */
export function livePeers(i: Pick<WgInterface, "peers">): (WgPeer & { readonly publicKey: string })[] {
    return i.peers.filter((p): p is WgPeer & { readonly publicKey: string } => p.publicKey !== undefined);
}

export const WG_DIR = "/etc/wireguard";
export const STAGE_DIR = "/etc/wireguard/.hearth";
const MARK = "# hearth: WireGuard link";

export function keyPath(ifname: string): string {
    return `${WG_DIR}/${ifname}.key`;
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
        [`${MARK} ${oneLine(i.link)}, side ${oneLine(i.side)}. Managed by hearth: edits are overwritten.`, `# The private key stays in ${keyPath(i.interfaceName)} on this host.`],
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

/** Bash function that fails unless a host has wg, wg-quick and a WireGuard implementation. */
const TOOLS = String.raw`for hearth_tool in wg wg-quick ip; do
  command -v "$hearth_tool" >/dev/null || { echo "hearth: $hearth_tool is missing: install wireguard-tools and iproute2" >&2; exit 69; }
done`;

/**
 * Prints the interface's public key as `hearth-wg-public-key: KEY`, generating the private key on the host first
 * when there is none or `keyVersion` asks for a new one. The private key never leaves the host.
 */
export function renderKeyScript(ifname: string, keyVersion: number): Script {
    const key = keyPath(ifname);
    const s = new Script(`WireGuard key for ${ifname}`).raw(TOOLS);
    s.raw(`hearth_key=${shq(key)}`, `hearth_version=${shq(key)}-version`, `hearth_want=${keyVersion}`);
    s.raw(String.raw`mkdir -p /etc/wireguard && chmod 0700 /etc/wireguard
if [ ! -s "$hearth_key" ] || [ "$(cat -- "$hearth_version" 2>/dev/null)" != "$hearth_want" ]; then
  wg genkey > "$hearth_key.new"
  mv -f -T -- "$hearth_key.new" "$hearth_key"
  echo "$hearth_want" > "$hearth_version"
  echo "hearth: generated a private key (version $hearth_want) in $hearth_key" >&2
  if ip link show dev ${shq(ifname)} >/dev/null 2>&1; then
    wg set ${shq(ifname)} private-key "$hearth_key"
  fi
fi
echo "hearth-wg-public-key: $(wg pubkey < "$hearth_key")"`);
    return s;
}

/** Removes the keys of an interface (after the interface itself is gone). */
export function renderKeyDeleteScript(ifname: string): Script {
    return new Script(`remove WireGuard keys of ${ifname}`).raw(`hearth_remove ${shq(keyPath(ifname))}`, `hearth_remove ${shq(`${keyPath(ifname)}-version`)}`);
}

/** Parses the key script's stdout. */
export function parsePublicKey(stdout: string): string | undefined {
    const m = /^hearth-wg-public-key: ([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)$/m.exec(stdout);
    return m?.[1];
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
 * Converges one side: stages the config and key loader, proves the config with `wg setconf` on a throwaway
 * interface (`wg-quick strip` alone does not validate), promotes both, then starts, restarts or reloads
 * wg-quick@ only as far as the change needs.
 */
export function renderConverge(i: WgInterface): WgConverge {
    const ifc = i.interfaceName;
    const stage = `${STAGE_DIR}/${ifc}.conf`;
    const live = `${WG_DIR}/${ifc}.conf`;
    const stageLoader = `${STAGE_DIR}/${ifc}.hearth-keys`;
    const loader = loaderPath(ifc);
    const s = new Script(`WireGuard ${ifc} for link ${i.link}, side ${i.side}`).raw(TOOLS);
    s.raw(`[ -s ${shq(keyPath(ifc))} ] || { echo "hearth: no private key in ${keyPath(ifc)}: the key step did not run" >&2; exit 66; }`);
    s.raw(`if [ -e ${shq(live)} ] && ! head -n 1 ${shq(live)} | grep -q '^${MARK} '; then echo "hearth: ${live} exists and was not written by hearth; move it away first" >&2; exit 73; fi`);
    s.raw(`mkdir -p ${shq(STAGE_DIR)} && chmod 0700 ${shq(WG_DIR)} ${shq(STAGE_DIR)}`);
    s.install({ path: stage, content: renderConfig(i), mode: 0o600 });
    s.install({ path: stageLoader, content: renderKeyLoader(i), mode: 0o700 });
    s.install({ path: `${STAGE_DIR}/${ifc}.restart`, content: renderRestartStamp(i), mode: 0o600 });
    s.raw("hearth_keys=0");
    const pskPeers = i.peers.filter((x) => x.presharedKey).map((p) => p.name);
    for (const name of pskPeers) {
        const dst = pskPath(ifc, name);
        s.secretToFile("hearth_psk", `${dst}.new`);
        s.raw(`if cmp -s -- "$hearth_psk" ${shq(dst)}; then rm -f -- "$hearth_psk"; else mv -f -T -- "$hearth_psk" ${shq(dst)}; hearth_keys=1; fi`);
    }
    const known = pskPeers.map((n) => shq(pskPath(ifc, n))).join("|") || "''";
    s.raw(`for hearth_f in ${shq(WG_DIR)}/${shq(ifc)}.*.psk; do case $hearth_f in ${known}) ;; *) hearth_remove "$hearth_f" ;; esac; done`);
    s.raw(String.raw`hearth_probe=hwv$$
hearth_pid=
if ip link add dev "$hearth_probe" type wireguard 2>/dev/null; then :
elif command -v wireguard-go >/dev/null; then
  WG_PROCESS_FOREGROUND=1 wireguard-go "$hearth_probe" >/dev/null 2>&1 &
  hearth_pid=$!
  for _ in $(seq 50); do [ -S "/var/run/wireguard/$hearth_probe.sock" ] && break; sleep 0.1; done
else
  echo "hearth: no WireGuard here: neither the kernel module nor wireguard-go" >&2; exit 69
fi
hearth_ok=0
if wg-quick strip ${shq(stage)} | ${PROBE_FILTER} | wg setconf "$hearth_probe" /dev/stdin; then hearth_ok=1; fi
if [ -n "$hearth_pid" ]; then kill "$hearth_pid" 2>/dev/null || true; wait "$hearth_pid" 2>/dev/null || true; fi
ip link del dev "$hearth_probe" 2>/dev/null || true
[ "$hearth_ok" = 1 ] || { echo "hearth: wg setconf rejected the config for ${ifc}; the live one is untouched" >&2; exit 65; }
hearth_live=0
hearth_promote() {
  if ! cmp -s -- "$1" "$2" || [ "$(stat -c %a -- "$1")" != "$(stat -c %a -- "$2")" ]; then
    cp -p -- "$1" "$2.hearth-new" && mv -f -T -- "$2.hearth-new" "$2"
    hearth_live=1
    echo "hearth: wrote $2"
  fi
}
hearth_restart=0
cmp -s -- ${shq(`${STAGE_DIR}/${ifc}.restart`)} ${shq(`${STAGE_DIR}/${ifc}.restart-live`)} || hearth_restart=1
hearth_promote ${shq(stageLoader)} ${shq(loader)}
hearth_promote ${shq(stage)} ${shq(live)}
systemctl is-enabled --quiet wg-quick@${shq(ifc)}.service || systemctl enable --quiet wg-quick@${shq(ifc)}.service
if ! systemctl is-active --quiet wg-quick@${shq(ifc)}.service; then
  systemctl start wg-quick@${shq(ifc)}.service
elif [ "$hearth_restart" != 0 ]; then
  systemctl restart wg-quick@${shq(ifc)}.service
elif [ "$hearth_live" != 0 ] || [ "$hearth_keys" != 0 ]; then
  systemctl reload wg-quick@${shq(ifc)}.service
  ${shq(loader)} ${shq(ifc)}
fi
wg show ${shq(ifc)} public-key >/dev/null
cp -p -- ${shq(`${STAGE_DIR}/${ifc}.restart`)} ${shq(`${STAGE_DIR}/${ifc}.restart-live`)}`);
    return { script: s.render(), files: s.installedFiles, pskPeers };
}

/** Stops and disables the interface and removes its config and preshared keys; the key step removes the keys. */
export function renderDeleteScript(i: Pick<WgInterface, "interfaceName" | "peers">): Script {
    const ifc = i.interfaceName;
    const s = new Script(`remove WireGuard ${ifc}`);
    s.raw(String.raw`if systemctl list-unit-files --quiet wg-quick@.service >/dev/null 2>&1; then
  systemctl disable --now --quiet wg-quick@${shq(ifc)}.service || true
fi
if ip link show dev ${shq(ifc)} >/dev/null 2>&1; then wg-quick down ${shq(ifc)} 2>/dev/null || ip link del dev ${shq(ifc)} || true; fi`);
    const files = [`${WG_DIR}/${ifc}.conf`, loaderPath(ifc), ...["conf", "hearth-keys", "restart", "restart-live"].map((x) => `${STAGE_DIR}/${ifc}.${x}`)];
    for (const p of [...files, ...i.peers.map((x) => pskPath(ifc, x.name))]) s.raw(`hearth_remove ${shq(p)}`);
    return s;
}
