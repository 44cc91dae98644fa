// HostFirewall rendering (pure: no Pulumi): the one nftables table hearth owns (`table inet hearth`), derived from the
// host's listener registry, and the scripts that apply it under a guard (commit-confirm), confirm it and delete it.
import { type Cidr, parseCidr, parseIp } from "../core/ip";
import { decodeOwner, type OwnerMark, type RegisteredListener } from "../core/owner";
import { contentHash, Script, shq } from "../core/shell";

/** Where the converge stages the desired ruleset (root's alone), and what the boot unit loads once it is confirmed. */
export const DESIRED_PATH = "/var/lib/hearth/firewall/desired.nft";
export const BOOT_PATH = "/etc/hearth/firewall.nft";
export const BOOT_UNIT = "hearth-firewall.service";
export const BOOT_UNIT_PATH = `/etc/systemd/system/${BOOT_UNIT}`;
/** The guard (runtime: hearth_guard_*) a ruleset change is applied under. */
export const GUARD = "firewall";
/** The object a HostFirewall claims on its host. */
export const TABLE_OBJECT = "nftables table inet hearth";

/** An extra opening (HostFirewall's `allow` entries). */
export interface AllowRule {
    readonly protocol: "tcp" | "udp";
    readonly ports: readonly (number | string)[];
    readonly from: "internet" | readonly string[];
    readonly reason: string;
}

/** A port spec as [low, high]; undefined when it is not one. */
export function parsePorts(v: unknown): readonly [number, number] | undefined {
    if (typeof v === "number") return Number.isInteger(v) && v >= 1 && v <= 65535 ? [v, v] : undefined;
    const m = typeof v === "string" ? /^([1-9][0-9]{0,4})-([1-9][0-9]{0,4})$/.exec(v) : null;
    if (!m) return undefined;
    const [lo, hi] = [Number(m[1]), Number(m[2])];
    return lo < hi && hi <= 65535 ? [lo, hi] : undefined;
}

export interface FirewallSpec {
    readonly hostName: string;
    readonly sshPort: number;
    readonly adminNetworks: readonly string[];
    readonly local: readonly string[];
    readonly overlay: readonly string[];
    /** Overlay interfaces: the WireGuard interfaces registered on the host and `overlayInterfaces`, sorted, once each. */
    readonly overlayInterfaces: readonly string[];
    readonly allow: readonly AllowRule[];
    readonly confirmSeconds: number;
    readonly listeners: readonly RegisteredListener[];
}

/** The WireGuard interfaces a listener registry names (WireguardLink registers `wireguard <interface>`). */
export function wireguardInterfaces(listeners: readonly RegisteredListener[]): string[] {
    const out = listeners.map((l) => /^wireguard ([a-z][a-z0-9_-]{0,14})$/.exec(l.listener)?.[1]).filter((x): x is string => x !== undefined);
    return [...new Set(out)].sort();
}

const byFamily = (nets: readonly string[], family: 4 | 6): string[] => nets.map((n) => parseCidr(n)!).filter((c: Cidr) => c.family === family).map((c) => c.networkText);
const set = (items: readonly (string | number)[]): string => `{ ${items.join(", ")} }`;
const comment = (text: string): string => `\t\t# ${text.replace(/[^\x20-\x7e]/g, "?")}`;
const ports = (ps: readonly (number | string)[]): string => set(ps.map((p) => { const [lo, hi] = parsePorts(p)!; return lo === hi ? String(lo) : `${lo}-${hi}`; }));

/** Who declared a listener, for a comment and the plan. */
export function listenerSource(l: RegisteredListener): string {
    return `${l.listener} ${l.protocol}/${l.port}${l.address ? ` on ${l.address}` : ""} (scope ${l.scope}), declared by ${decodeOwner(l.owner)}${l.where ? ` at ${l.where}` : ` (${l.arg})`}`;
}

function isLoopback(address: string): boolean {
    const ip = parseIp(address);
    return ip !== undefined && (ip.family === 4 ? ip.value >> 24n === 127n : ip.value === 1n);
}

/** The rules (inside the input chain) that open one listener, with a comment saying where it came from. */
function listenerRules(spec: FirewallSpec, l: RegisteredListener): string[] {
    const out = [comment(listenerSource(l))];
    const ip = l.address === undefined ? undefined : parseIp(l.address);
    const match = `${l.protocol} dport ${l.port} accept`;
    if (l.scope === "none" || l.scope === "loopback" || (l.address !== undefined && isLoopback(l.address))) {
        out.push(comment("nothing beyond lo (accepted above)"));
        return out;
    }
    if (l.address !== undefined && ip === undefined) out.push(comment(`bound to the name ${l.address}: matched on every address of the host`));
    const daddr = (family: 4 | 6): string => (ip === undefined ? "" : `${family === 4 ? "ip" : "ip6"} daddr ${ip.text} `);
    const families = ip === undefined ? ([4, 6] as const) : ([ip.family] as const);
    const fromNets = (nets: readonly string[]) => {
        for (const f of families) {
            const n = byFamily(nets, f);
            if (n.length) out.push(`\t\t${f === 4 ? "ip" : "ip6"} saddr ${set(n)} ${daddr(f)}${match}`);
        }
    };
    if (l.scope === "internet") {
        if (ip === undefined) out.push(`\t\t${match}`);
        else out.push(`\t\t${daddr(ip.family)}${match}`);
    } else if (l.scope === "local") {
        fromNets(spec.local);
    } else {
        if (spec.overlayInterfaces.length) {
            if (ip === undefined) out.push(`\t\tiifname ${set(spec.overlayInterfaces.map((i) => `"${i}"`))} ${match}`);
            else out.push(`\t\tiifname ${set(spec.overlayInterfaces.map((i) => `"${i}"`))} ${daddr(ip.family)}${match}`);
        }
        fromNets(spec.overlay);
    }
    return out;
}

/**
 * The ruleset file: replaces `table inet hearth` in one transaction (declare it, delete it, define it anew), so loading
 * it twice changes nothing and a file that does not load leaves the live table as it was. Other tables are not touched.
 */
export function renderRuleset(spec: FirewallSpec): string {
    const lines = [
        `# hearth: table inet hearth of host ${spec.hostName} (HostFirewall). Generated; hearth replaces the whole table.`,
        "# Only this table is hearth's. A packet any other table's input chain drops is dropped all the same.",
        "table inet hearth",
        "delete table inet hearth",
        "table inet hearth {",
        "\tchain input {",
        "\t\ttype filter hook input priority filter; policy drop;",
        '\t\tiif "lo" accept',
        "\t\tct state established,related accept",
        "\t\tct state invalid drop",
        comment("ICMP essentials: errors (PMTU discovery included), IPv6 neighbour discovery, echo rate-limited"),
        "\t\ticmp type { destination-unreachable, time-exceeded, parameter-problem } accept",
        "\t\ticmp type echo-request limit rate 10/second burst 20 packets accept",
        "\t\ticmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query, mld-listener-report, mld2-listener-report } accept",
        "\t\ticmpv6 type echo-request limit rate 10/second burst 20 packets accept",
        comment("DHCPv6 client replies (link-local servers)"),
        "\t\tip6 saddr fe80::/10 udp dport 546 accept",
        comment(`SSH (the port hearth connects on) from adminNetworks`),
    ];
    for (const f of [4, 6] as const) {
        const n = byFamily(spec.adminNetworks, f);
        if (n.length) lines.push(`\t\t${f === 4 ? "ip" : "ip6"} saddr ${set(n)} tcp dport ${spec.sshPort} accept`);
    }
    for (const l of sortedListeners(spec.listeners)) lines.push(...listenerRules(spec, l));
    for (const r of spec.allow) {
        lines.push(comment(`allow: ${r.reason}`));
        const match = `${r.protocol} dport ${ports(r.ports)} accept`;
        if (r.from === "internet") lines.push(`\t\t${match}`);
        else for (const f of [4, 6] as const) {
            const n = byFamily(r.from, f);
            if (n.length) lines.push(`\t\t${f === 4 ? "ip" : "ip6"} saddr ${set(n)} ${match}`);
        }
    }
    lines.push(comment("everything else: dropped (policy). The forward and output hooks are not hearth's: no chain here."), "\t}", "}", "");
    return lines.join("\n");
}

function sortedListeners(ls: readonly RegisteredListener[]): RegisteredListener[] {
    return [...ls].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port || (a.address ?? "").localeCompare(b.address ?? "") || a.listener.localeCompare(b.listener));
}

/** What the plan prints for a host: the listeners the ruleset came from, the extra rules, and the ruleset itself. */
export function firewallPlan(spec: FirewallSpec): string[] {
    const out = [`firewall of ${spec.hostName}: table inet hearth (input policy drop; SSH tcp/${spec.sshPort} from ${spec.adminNetworks.join(", ")}; rollback after ${spec.confirmSeconds}s unless confirmed)`];
    for (const l of sortedListeners(spec.listeners)) out.push(`  listener: ${listenerSource(l)}`);
    for (const r of spec.allow) out.push(`  allow: ${r.protocol} ${r.ports.join(",")} from ${r.from === "internet" ? "internet" : r.from.join(", ")}: ${r.reason}`);
    out.push(...renderRuleset(spec).trimEnd().split("\n").map((l) => `  | ${l.replace(/\t/g, "    ")}`));
    return out;
}

/** The boot unit: loads the last confirmed ruleset before the network comes up, after Debian's nftables.service. */
export function renderBootUnit(): string {
    return [
        "[Unit]",
        "Description=hearth firewall: load table inet hearth (the last confirmed ruleset)",
        "DefaultDependencies=no",
        "Wants=network-pre.target",
        "Before=network-pre.target shutdown.target",
        "After=nftables.service",
        "Conflicts=shutdown.target",
        `ConditionPathExists=${BOOT_PATH}`,
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        `ExecStart=/usr/sbin/nft -f ${BOOT_PATH}`,
        // nft needs root's CAP_NET_ADMIN and a netlink socket in the host's network namespace, and reads one file;
        // everything else is taken away (systemd-analyze security --offline: 1.4, within the policy's budget).
        "CapabilityBoundingSet=CAP_NET_ADMIN",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateDevices=yes",
        "PrivateMounts=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "ProtectProc=invisible",
        "ProcSubset=pid",
        "RestrictAddressFamilies=AF_NETLINK",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "MemoryDenyWriteExecute=yes",
        "SystemCallArchitectures=native",
        "SystemCallFilter=@system-service",
        "SystemCallFilter=~@privileged @resources",
        "SystemCallErrorNumber=EPERM",
        "UMask=0077",
        "IPAddressDeny=any",
        "DevicePolicy=closed",
        "KeyringMode=private",
        "RemoveIPC=yes",
        "",
        "[Install]",
        "WantedBy=sysinit.target",
        "",
    ].join("\n");
}

export interface RenderedFirewall {
    readonly ruleset: string;
    readonly unit: string;
    readonly script: string;
    readonly confirmScript: string;
    readonly deleteScript: string;
    readonly check: readonly string[];
    /** Hash of the scripts; the ruleset and the unit travel on stdin. */
    readonly hash: string;
    /** SHA-256 of the ruleset file (what the converge compares, the confirm installs at boot and the check expects). */
    readonly rulesetHash: string;
}

export function renderFirewall(spec: FirewallSpec, mark: OwnerMark, sha256: (s: string) => string): RenderedFirewall {
    const ruleset = renderRuleset(spec);
    const unit = renderBootUnit();
    const rulesetHash = sha256(ruleset);
    const c = new Script(`HostFirewall table inet hearth on ${spec.hostName}`).owner(mark);
    c.raw(
        "hearth_lock firewall",
        "command -v nft >/dev/null || hearth_die 69 'nft is not installed on this host: install nftables first (e.g. with HostPackages)'",
        `hearth_firewall_claim ${shq(TABLE_OBJECT)}`,
    );
    c.install({ path: DESIRED_PATH, content: ruleset, mode: 0o600 });
    c.install({ path: BOOT_UNIT_PATH, content: unit, mode: 0o644 });
    c.raw(
        `hearth_daemon_reload ${BOOT_UNIT}`,
        `if ! systemctl is-enabled --quiet ${BOOT_UNIT}; then systemctl enable --quiet --no-reload ${BOOT_UNIT}; hearth_step; fi`,
        `hearth_firewall_converge ${spec.confirmSeconds} ${shq(rulesetHash)}`,
    );
    const confirm = new Script(`confirm HostFirewall table inet hearth on ${spec.hostName} (a fresh SSH connection)`).owner(mark);
    confirm.raw(`hearth_firewall_confirm ${shq(rulesetHash)}`);
    const d = new Script(`remove HostFirewall table inet hearth from ${spec.hostName}`).owner(mark);
    d.raw("hearth_lock firewall", "hearth_firewall_remove");
    const script = c.render();
    const confirmScript = confirm.render();
    const deleteScript = d.render();
    return {
        ruleset,
        unit,
        script,
        confirmScript,
        deleteScript,
        check: [`hearth_check_firewall ${rulesetHash}`, `hearth_check_unit ${BOOT_UNIT} enabled -`],
        hash: contentHash(script, confirmScript, deleteScript),
        rulesetHash,
    };
}
