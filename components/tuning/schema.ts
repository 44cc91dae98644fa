// HostTuning arguments: one zod schema that is their type, their validation and their README table. What needs the
// host (a sysctl the kernel has, a congestion control it offers, systemd-timesyncd installed) is checked by the converge
// script before it writes anything.
import { hostAddress, ipAddress, list, ONCE_VALID, problem, reasonInWords, record, say, z } from "../core/schema";
import { hostArg } from "../validate";

/** A sysctl name as `sysctl` writes it: dotted, lowercase, at least two parts, no path tricks. */
export const SYSCTL_KEY = /^[a-z][a-z0-9_]*(\.[a-z0-9_][a-z0-9_-]*)+$/;
export const MAX_SYSCTL_KEY = 128;
export const SYSCTL_KEY_ALLOWED = `a sysctl name in dotted form, e.g. "net.core.somaxconn": lowercase parts of a-z, 0-9, '_' (and '-' after a part's first character) separated by single dots, at least two parts, at most ${MAX_SYSCTL_KEY} characters (no '/', '..', spaces or wildcards)`;

export const isSysctlKey = (k: string): boolean => k.length <= MAX_SYSCTL_KEY && SYSCTL_KEY.test(k);

/**
 * Keys hearth never sets, each with the reason: keys another argument owns, actions (write-only files: nothing to
 * compare or put back), and switches the kernel lets you turn only one way until the next boot (hearth could never put
 * them back). First match wins.
 */
export const SYSCTL_REFUSED: readonly (readonly [RegExp, string])[] = [
    [/^kernel\.hostname$/, "the hostname argument sets it (and /etc/hostname with it)"],
    [/^kernel\.domainname$/, "the NIS domain name is not a tuning knob"],
    [/^kernel\.(modules_disabled|kexec_load_disabled)$/, "a one-way switch: once 1 it stays 1 until the next boot, so hearth could never put it back (set it from a unit that runs at boot if you mean it)"],
    [/^kernel\.kexec_load_limit_(panic|reboot)$/, "the kernel lets it only be lowered until the next boot, so hearth could never put it back"],
    [/^net\.ipv6\.conf\.[^.]+\.stable_secret$/, "a secret the kernel lets nobody read before it is set and never unsets: hearth could neither compare it nor put it back (and it would be stored in clear text)"],
    [/^(vm\.(drop_caches|compact_memory|stat_refresh)|net\.ipv[46]\.route\.flush)$/, "an action (a write-only file), not a setting: nothing to compare or put back"],
    [/^fs\.binfmt_misc\./, "binfmt_misc's files are actions (register, status), not settings"],
];

/** Values the kernel lets you set only one way until the next boot: [key, value, the reason and what to use instead]. */
export const SYSCTL_ONE_WAY: readonly (readonly [string, string, string])[] = [
    ["kernel.yama.ptrace_scope", "3", "3 cannot be lowered again until the next boot, so hearth could never put it back: use 2 (only root may attach)"],
    ["kernel.unprivileged_bpf_disabled", "1", "1 cannot be cleared until the next boot, so hearth could never put it back: use 2, which refuses unprivileged BPF the same way"],
];

/** Why `key` is never set (undefined: it may be). */
export const sysctlRefused = (key: string): string | undefined => SYSCTL_REFUSED.find(([re]) => re.test(key))?.[1];

const V4_FORWARD = ["net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding"];
const IFACE_KEY = (family: 4 | 6, name: string) => new RegExp(`^net\\.ipv${family}\\.conf\\.[^.]+\\.${name}$`);

/**
 * Why `writer` and `other`, declared together, fight (undefined: they do not): one kernel setting under two names, a key
 * whose write also sets the other, or two spellings of one limit (writing one zeroes the other). Either way a re-run
 * would write both again, and a dropped key's put-back would change the kept one.
 */
export function sysctlTie(writer: string, other: string): string | undefined {
    if (V4_FORWARD.includes(writer) && V4_FORWARD.includes(other)) return "they are one kernel setting under two names";
    if (V4_FORWARD.includes(writer) && (IFACE_KEY(4, "forwarding").test(other) || other === "net.ipv4.conf.all.accept_redirects")) {
        return `writing ${writer} also sets every interface's forwarding, the default's, and conf.all.accept_redirects`;
    }
    for (const name of ["forwarding", "disable_ipv6"]) {
        if (writer === `net.ipv6.conf.all.${name}` && other !== writer && IFACE_KEY(6, name).test(other)) return `writing ${writer} also sets every interface's ${name} and the default's`;
    }
    for (const [a, b] of [["vm.dirty_ratio", "vm.dirty_bytes"], ["vm.dirty_background_ratio", "vm.dirty_background_bytes"], ["vm.overcommit_ratio", "vm.overcommit_kbytes"]]) {
        if ((writer === a && other === b) || (writer === b && other === a)) return "they are two spellings of one limit: writing one sets the other to 0";
    }
    return undefined;
}

/** A value as the kernel prints it back: words of safe characters separated by single spaces. */
export const PLAIN_VALUE = /^[A-Za-z0-9_.:,+-]{1,64}( [A-Za-z0-9_.:,+-]{1,64}){0,7}$/;
export const PLAIN_VALUE_ALLOWED =
    "a value as the kernel prints it back: an integer, true or false (written 1 or 0), a list of integers, or words of letters, digits and _ . : , + - separated by single spaces (at most 8 words of 64 characters; integers without leading zeros or '+'; no newline, '=', tab or shell character)";
/** A word that is an integer the kernel would print in another form ("007", "+1", "-0"). */
const UNPRINTED_INTEGER = (w: string) => /^[+-]?[0-9]+$/.test(w) && !/^(0|-?[1-9][0-9]*)$/.test(w);

export const CONGESTION_CONTROLS = ["reno", "cubic", "bbr", "htcp", "vegas", "westwood", "bic", "dctcp", "hybla", "illinois", "scalable", "lp", "veno", "yeah", "highspeed", "cdg", "nv"] as const;
export const QDISCS = ["pfifo_fast", "fq", "fq_codel", "fq_pie", "cake", "sfq", "pfifo", "bfifo", "codel", "pie", "red", "choke"] as const;

const INT_MAX = 2147483647;

/** The value rule of a known key: what it takes, in words, and the check. */
type Rule = { readonly kind: "int"; readonly min: number; readonly max: number } | { readonly kind: "ints"; readonly count: number; readonly min: number; readonly max: number; readonly ascending?: boolean } | { readonly kind: "word"; readonly words: readonly string[] };

const bool: Rule = { kind: "int", min: 0, max: 1 };
const int = (min: number, max: number): Rule => ({ kind: "int", min, max });

/** Per-interface keys (`all`, `default` or an interface name) of net.ipv4.conf and net.ipv6.conf. */
const IFACE = "(all|default|[a-z0-9][a-z0-9_-]{0,14})";

/** The common keys and their value rules; a key not listed takes PLAIN_VALUE. First match wins. */
export const KNOWN_SYSCTLS: readonly (readonly [RegExp, Rule])[] = [
    [/^net\.ipv4\.tcp_congestion_control$/, { kind: "word", words: CONGESTION_CONTROLS }],
    [/^net\.core\.default_qdisc$/, { kind: "word", words: QDISCS }],
    [/^net\.ipv4\.ip_local_port_range$/, { kind: "ints", count: 2, min: 1, max: 65535, ascending: true }],
    [/^net\.ipv4\.tcp_(rmem|wmem)$/, { kind: "ints", count: 3, min: 1, max: INT_MAX, ascending: true }],
    [new RegExp(`^net\\.ipv4\\.conf\\.${IFACE}\\.rp_filter$`), int(0, 2)],
    [new RegExp(`^net\\.ipv4\\.conf\\.${IFACE}\\.(accept_redirects|send_redirects|accept_source_route|secure_redirects|log_martians|forwarding|proxy_arp)$`), bool],
    [new RegExp(`^net\\.ipv6\\.conf\\.${IFACE}\\.(forwarding|disable_ipv6|accept_redirects|accept_source_route|use_tempaddr)$`), int(0, 2)],
    [new RegExp(`^net\\.ipv6\\.conf\\.${IFACE}\\.accept_ra$`), int(0, 2)],
    [/^net\.ipv4\.(ip_forward|tcp_syncookies|tcp_timestamps|tcp_sack|tcp_window_scaling|tcp_slow_start_after_idle|tcp_no_metrics_save|icmp_echo_ignore_broadcasts|icmp_ignore_bogus_error_responses|tcp_rfc1337|ip_nonlocal_bind)$/, bool],
    [/^net\.ipv6\.ip_nonlocal_bind$/, bool],
    [/^net\.ipv4\.tcp_mtu_probing$/, int(0, 2)],
    [/^net\.ipv4\.tcp_fastopen$/, int(0, 0x7ff)],
    [/^net\.ipv4\.tcp_(fin_timeout|keepalive_time|keepalive_intvl|keepalive_probes|max_syn_backlog|notsent_lowat|max_tw_buckets)$/, int(1, INT_MAX)],
    [/^net\.core\.(somaxconn|netdev_max_backlog|rmem_max|wmem_max|rmem_default|wmem_default|optmem_max)$/, int(1, INT_MAX)],
    [/^vm\.swappiness$/, int(0, 200)],
    [/^vm\.(dirty_ratio|dirty_background_ratio|overcommit_ratio)$/, int(0, 100)],
    [/^vm\.overcommit_memory$/, int(0, 2)],
    [/^vm\.(vfs_cache_pressure|dirty_expire_centisecs|dirty_writeback_centisecs|min_free_kbytes|max_map_count)$/, int(0, INT_MAX)],
    [/^fs\.(file-max|nr_open|inotify\.max_user_watches|inotify\.max_user_instances|inotify\.max_queued_events|aio-max-nr)$/, int(1, INT_MAX)],
    [/^fs\.protected_(hardlinks|symlinks)$/, bool],
    [/^fs\.protected_(fifos|regular)$/, int(0, 2)],
    [/^fs\.suid_dumpable$/, int(0, 2)],
    [/^kernel\.(dmesg_restrict|randomize_va_space)$/, int(0, 2)],
    [/^kernel\.(kptr_restrict|unprivileged_bpf_disabled|perf_event_paranoid)$/, int(-1, 3)],
    [/^kernel\.yama\.ptrace_scope$/, int(0, 3)],
    [/^kernel\.sysrq$/, int(0, 511)],
    [/^kernel\.(panic|panic_on_oops)$/, int(-1, INT_MAX)],
    [/^kernel\.io_uring_disabled$/, int(0, 2)],
    [/^vm\.mmap_min_addr$/, int(0, INT_MAX)],
    [/^vm\.unprivileged_userfaultfd$/, bool],
    [/^dev\.tty\.ldisc_autoload$/, bool],
    [/^net\.core\.(bpf_jit_harden|bpf_jit_enable)$/, int(0, 2)],
    [/^kernel\.(pid_max|threads-max)$/, int(1, INT_MAX)],
];

/**
 * Values that weaken the host, with the safe value: [key, whether an integer value weakens it, the safe value in words].
 * Such a value is set only with a reason (`loosen`), written above its line in the sysctl file.
 */
export const SYSCTL_LOOSENINGS: readonly (readonly [RegExp, (n: number) => boolean, string])[] = [
    [/^kernel\.randomize_va_space$/, (n) => n < 2, "2 (full address space randomization)"],
    [/^kernel\.kptr_restrict$/, (n) => n < 1, "1 or 2 (kernel addresses hidden from users)"],
    [/^kernel\.dmesg_restrict$/, (n) => n < 1, "1 (the kernel log for root only)"],
    [/^kernel\.unprivileged_bpf_disabled$/, (n) => n < 1, "2 (no BPF for unprivileged users)"],
    [/^kernel\.perf_event_paranoid$/, (n) => n < 2, "2 or more (no kernel profiling by unprivileged users)"],
    [/^kernel\.yama\.ptrace_scope$/, (n) => n < 1, "1 or 2 (a process traces only its own descendants)"],
    [/^kernel\.sysrq$/, (n) => n === 1 || (n & (8 | 64)) !== 0, "0, or a mask without 1 (everything), 8 (debugging dumps) and 64 (signalling processes), e.g. Debian's 438"],
    [/^kernel\.io_uring_disabled$/, (n) => n < 1, "1 or 2 (io_uring for root or a chosen group only, or off)"],
    [/^vm\.mmap_min_addr$/, (n) => n < 65536, "65536 (no mappings near address 0)"],
    [/^vm\.unprivileged_userfaultfd$/, (n) => n > 0, "0 (userfaultfd for privileged users only)"],
    [/^fs\.protected_(symlinks|hardlinks)$/, (n) => n < 1, "1"],
    [/^fs\.protected_(fifos|regular)$/, (n) => n < 1, "1 or 2"],
    [/^fs\.suid_dumpable$/, (n) => n > 0, "0 (no core dumps of setuid programs)"],
    [/^net\.core\.bpf_jit_harden$/, (n) => n < 1, "1 or 2 (the BPF JIT hardened)"],
    [/^net\.core\.bpf_jit_enable$/, (n) => n > 1, "0 or 1 (2 writes JIT images to the kernel log)"],
    [/^dev\.tty\.ldisc_autoload$/, (n) => n > 0, "0 (no line discipline modules loaded by unprivileged users)"],
    [/^net\.ipv4\.tcp_syncookies$/, (n) => n < 1, "1 (SYN cookies against SYN floods)"],
    [/^net\.ipv[46]\.conf\.[^.]+\.accept_source_route$/, (n) => n > 0, "0 (source-routed packets dropped)"],
];

/** The safe value of `key` when `text` (as written) weakens the host; undefined when it does not. */
export function sysctlLoosening(key: string, text: string): string | undefined {
    const l = SYSCTL_LOOSENINGS.find(([re]) => re.test(key));
    return l && /^-?[0-9]+$/.test(text) && l[1](Number(text)) ? l[2] : undefined;
}

export type SysctlValue = string | number | boolean | readonly number[];

function ruleAllowed(r: Rule): string {
    if (r.kind === "word") return `one of ${r.words.map((w) => JSON.stringify(w)).join(", ")}`;
    if (r.kind === "int") return r.min === 0 && r.max === 1 ? "true or false (or 0 or 1)" : `an integer from ${r.min} to ${r.max}`;
    return `${r.count} integers from ${r.min} to ${r.max}${r.ascending ? ", each at least the one before" : ""}, as a list (e.g. [${Array.from({ length: r.count }, (_, i) => r.min + i).join(", ")}]) or a string of them separated by single spaces`;
}

const INTEGER = /^-?(0|[1-9][0-9]{0,9})$/;

/** The text written for a value, or undefined when `value` breaks the rule of `key` (`allowed` says what it takes). */
export function sysctlText(key: string, value: unknown): { text?: string; allowed: string } {
    const rule = KNOWN_SYSCTLS.find(([re]) => re.test(key))?.[1];
    if (!rule) {
        const text = typeof value === "boolean" ? (value ? "1" : "0") : typeof value === "number" ? (Number.isSafeInteger(value) ? String(value) : undefined) : Array.isArray(value) ? (value.every((n) => Number.isSafeInteger(n)) && value.length > 0 ? value.join(" ") : undefined) : typeof value === "string" ? value : undefined;
        return { text: text !== undefined && PLAIN_VALUE.test(text) && !text.split(" ").some(UNPRINTED_INTEGER) ? text : undefined, allowed: PLAIN_VALUE_ALLOWED };
    }
    const allowed = ruleAllowed(rule);
    if (rule.kind === "word") return { text: typeof value === "string" && rule.words.includes(value) ? value : undefined, allowed };
    if (rule.kind === "int") {
        const n = typeof value === "boolean" && rule.min === 0 && rule.max === 1 ? Number(value) : typeof value === "number" ? value : typeof value === "string" && INTEGER.test(value) ? Number(value) : NaN;
        return { text: Number.isSafeInteger(n) && n >= rule.min && n <= rule.max ? String(n) : undefined, allowed };
    }
    const parts = Array.isArray(value) ? value : typeof value === "string" && /^[0-9]+( [0-9]+)*$/.test(value) ? value.split(" ").map((s) => (INTEGER.test(s) ? Number(s) : NaN)) : [];
    const ok = parts.length === rule.count && parts.every((n, i) => Number.isSafeInteger(n) && n >= rule.min && n <= rule.max && (!rule.ascending || i === 0 || n >= (parts[i - 1] as number)));
    return { text: ok ? parts.join(" ") : undefined, allowed };
}

const sysctlValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.number())], say(PLAIN_VALUE_ALLOWED));

/** A hostname: lowercase DNS labels joined by dots, as systemd takes a static hostname (at most 64 characters). */
export const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
export const HOSTNAME_ALLOWED = "a hostname: lowercase DNS labels (a-z, 0-9, inner '-') joined by single dots, at most 64 characters, not all digits";
const isHostname = (v: string) => v.length <= 64 && HOSTNAME.test(v) && !/^[0-9.]+$/.test(v);
const hostnameArg = () => z.string(say(HOSTNAME_ALLOWED)).refine(isHostname, say(HOSTNAME_ALLOWED));

/** Names the distribution's own /etc/hosts lines keep. */
export const RESERVED_HOST_NAMES = ["localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "ip6-allnodes", "ip6-allrouters"];

export const MAX_HOSTS_ENTRIES = 256;
export const MAX_TIME_SERVERS = 16;

export const hostsEntrySchema = record(
    {
        address: ipAddress().describe("The address the names resolve to: an IPv4 or IPv6 address (no zone index)."),
        names: list(hostnameArg(), `a list of hostnames (${HOSTNAME_ALLOWED})`, 16, 1).describe("The names, canonical first (as /etc/hosts reads them), 1 to 16 of them."),
    },
    "a hosts entry",
);

export const timeSyncSchema = record(
    {
        servers: list(hostAddress(), "a list of NTP servers (IP addresses or DNS names)", MAX_TIME_SERVERS, 1).describe("NTP servers (`NTP=` of systemd-timesyncd), tried in order: IP addresses or DNS names."),
        fallbackServers: list(hostAddress(), "a list of NTP servers (IP addresses or DNS names)", MAX_TIME_SERVERS)
            .optional()
            .describe("`FallbackNTP=`: used when no server above answers; an empty list turns the distribution's fallback off. @default the distribution's"),
    },
    "timeSync",
);

export const tuningShape = {
    host: hostArg().describe("The host to tune. One HostTuning per host: it owns the host's sysctl file, its time servers, its hostname and its /etc/hosts block."),
    sysctls: z
        .record(z.string(say(SYSCTL_KEY_ALLOWED)).refine(isSysctlKey, say(SYSCTL_KEY_ALLOWED)), sysctlValue, say("a mapping from sysctl names to values"))
        .optional()
        .describe(
            "Kernel settings, e.g. `{ \"net.ipv4.tcp_congestion_control\": \"bbr\", \"net.core.default_qdisc\": \"fq\" }`. Common keys are checked by their own rule (congestion control and qdisc from a list, booleans, integer ranges, `rp_filter` 0 to 2, port ranges); any other key takes a plain value. Refused: keys hearth could not compare or put back (an IPv6 stable_secret, actions such as vm.drop_caches, one-way switches such as kernel.modules_disabled), two keys that are one setting or set each other (net.ipv4.ip_forward with net.ipv4.conf.all.forwarding, ...), and a value that weakens the host without a reason in `loosen`. Set live where the live value differs, then written to /etc/sysctl.d/60-hearth.conf (for boot); a congestion control the kernel does not offer stops the converge before anything is written. A key no longer declared gets back the value it had before hearth first set it. @default none",
        ),
    loosen: z
        .record(z.string(say(SYSCTL_KEY_ALLOWED)).refine(isSysctlKey, say(SYSCTL_KEY_ALLOWED)), reasonInWords(), say("a mapping from sysctl names to reasons"))
        .optional()
        .describe(
            "Reasons for sysctl values that weaken the host, by key, e.g. `{ \"kernel.perf_event_paranoid\": \"profiling with perf as the build user\" }`. A value below its safe level (address space randomization off, kernel pointers or the kernel log shown to users, unprivileged BPF, userfaultfd or io_uring, kernel profiling, ptrace of any process, sysrq debugging or signalling, protected links off, setuid core dumps, an unhardened BPF JIT, mmap at low addresses, line discipline autoloading, SYN cookies off, source routing) is refused without one; the reason is written above its line in the sysctl file. A reason for a value that weakens nothing is refused too. @default none",
        ),
    timeSync: timeSyncSchema.optional().describe("Time servers for systemd-timesyncd (a drop-in in /etc/systemd/timesyncd.conf.d/), which is enabled and restarted when they change; the package must be installed. @default the distribution's"),
    hostname: hostnameArg().optional().describe(`The static hostname (/etc/hostname and the live hostname): lowercase DNS labels (a-z, 0-9, inner '-') joined by single dots, at most 64 characters, not all digits. Without it the hostname is left alone (one hearth set before is put back). @default unchanged`),
    hosts: list(hostsEntrySchema, "a list of { address, names } entries", MAX_HOSTS_ENTRIES)
        .optional()
        .describe("Lines of /etc/hosts, kept in a block between hearth's marker lines (the rest of the file is left as it is). One entry per address. @default none"),
};

/** The rules between fields; paths are relative to the arguments. */
export function checkTuning(v: { sysctls?: Record<string, unknown>; loosen?: Record<string, string>; hosts?: readonly { address: string; names: readonly string[] }[] }, ctx: z.RefinementCtx): void {
    const loosen = v.loosen ?? {};
    const keys = Object.keys(v.sysctls ?? {});
    for (const [key, value] of Object.entries(v.sysctls ?? {})) {
        const refused = sysctlRefused(key);
        if (refused) {
            problem(ctx, ["sysctls", key], value, `no value: hearth does not set ${key} (${refused})`);
            continue;
        }
        const { text, allowed } = sysctlText(key, value);
        if (text === undefined) {
            problem(ctx, ["sysctls", key], value, allowed);
            continue;
        }
        const oneWay = SYSCTL_ONE_WAY.find(([k, t]) => k === key && t === text);
        if (oneWay) {
            problem(ctx, ["sysctls", key], value, `a value other than ${text}: ${oneWay[2]}`);
            continue;
        }
        const safe = sysctlLoosening(key, text);
        if (safe !== undefined && loosen[key] === undefined) problem(ctx, ["sysctls", key], value, `${safe}: ${key} = ${text} weakens the host; to set it anyway, give the reason in words as loosen["${key}"]`);
        if (safe === undefined && loosen[key] !== undefined) problem(ctx, ["loosen", key], loosen[key], `a reason only for a sysctl value that weakens the host (sysctls["${key}"] is ${text}, which does not)`);
        const tied = keys.find((other) => other !== key && sysctlTie(key, other));
        if (tied) problem(ctx, ["sysctls", key], value, `not ${key} together with ${tied}: ${sysctlTie(key, tied)}, so declared together they would fight on every run (declare one of them)`);
    }
    for (const key of Object.keys(loosen)) {
        if (!keys.includes(key)) problem(ctx, ["loosen", key], loosen[key], `a reason only for a key of sysctls (${key} is not declared)`);
    }
    const seen = new Map<string, number>();
    (v.hosts ?? []).forEach((e, i) => {
        const canon = canonicalAddress(e.address);
        if (seen.has(canon)) problem(ctx, ["hosts", i, "address"], e.address, `an address no other entry has (entry ${seen.get(canon)} has it: put all its names in one entry)`);
        seen.set(canon, i);
        e.names.forEach((n, j) => {
            if (RESERVED_HOST_NAMES.includes(n)) problem(ctx, ["hosts", i, "names", j], n, `a name other than ${RESERVED_HOST_NAMES.join(", ")} (the distribution's own lines keep them)`);
        });
    });
}

/** An address in one spelling, so that "fd00::1" and "fd00:0::1" are one entry. */
function canonicalAddress(a: string): string {
    return a.includes(":") ? new URL(`http://[${a}]/`).hostname : a;
}

export const HostTuningArgsSchema = record(tuningShape, "HostTuningArgs").superRefine(checkTuning, ONCE_VALID);

export type HostTuningArgs = z.input<typeof HostTuningArgsSchema>;
