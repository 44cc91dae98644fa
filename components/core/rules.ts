// One rule per kind of argument, shared by every component: host paths, names and free text.
//
// Pure: no Pulumi import. Each rule returns the checked value or throws an ArgumentError naming the argument, the value
// and what is allowed; components turn that into a pulumi.ResourceError (validate.ts `check`), site schemas into a
// config problem.
import { ArgumentError } from "./errors";
import { isIP } from "net";

// ---- host paths ------------------------------------------------------------------------------------------------

/**
 * One path segment: letters, digits and `. _ + @ = , -`, not starting with `-` (an option to the tool that gets it).
 * Everything else is refused: whitespace and control characters, shell characters (`$ \` " ' \ ; & | < > ( ) ! #`),
 * glob characters (`* ? [ ]`, `{ }`), `~` (home expansion), `%` (systemd specifiers), `:` (the bind separator of
 * systemd, nspawn and scp) and anything outside printable ASCII (lookalikes).
 */
const SEGMENT = /^[A-Za-z0-9._+@=,][A-Za-z0-9._+@=,-]{0,254}$/;
const MAX_PATH = 1024;

export const HOST_PATH_ALLOWED =
    "a normalized absolute path other than '/' (at most 1024 characters) whose segments are letters, digits and . _ + @ = , - " +
    "(not starting with '-'); no '..', '.', '//' or trailing '/', no whitespace, control, shell, glob or specifier characters ($ ` \" ' \\ * ? [ ] { } ~ % : ; & | < > ( ) ! #)";

/** Mountpoints that would shadow the system or another manager's tree: these exact paths. */
const SYSTEM_EXACT = [
    "/", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/efi", "/dev", "/proc", "/sys", "/run",
    "/var", "/var/lib", "/var/lib/postgresql", "/var/lib/machines", "/root", "/home",
];
/** ...and everything below these (on merged-/usr systems /bin, /sbin and /lib* lead into /usr). */
const SYSTEM_BELOW = [
    "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/efi", "/dev", "/proc", "/sys", "/run",
    "/var/lib/postgresql", "/var/lib/systemd",
];

export const SYSTEM_TREE_ALLOWED =
    "a path that does not shadow the system: not /, /etc, /usr, /bin, /sbin, /lib*, /boot, /efi, /dev, /proc, /sys, /run, /var, /var/lib, " +
    "/var/lib/postgresql, /var/lib/machines, /root or /home, nor anything below /etc, /usr, /bin, /sbin, /lib*, /boot, /efi, /dev, /proc, /sys, " +
    "/run, /var/lib/postgresql or /var/lib/systemd";

/** Whether a (checked) path is a system tree a mountpoint must not cover. */
export function isSystemTree(p: string): boolean {
    return SYSTEM_EXACT.includes(p) || SYSTEM_BELOW.some((t) => p.startsWith(`${t}/`));
}

export interface HostPathOptions {
    /** Refuse system trees (`/etc`, `/usr`, `/var/lib/postgresql`, ...): for mountpoints and other things that cover a tree. */
    readonly notSystemTree?: boolean;
}

/** Whether `value` passes the path rule (without the system-tree option). */
export function isHostPath(value: unknown): value is string {
    if (typeof value !== "string" || value.length < 2 || value.length > MAX_PATH || !value.startsWith("/")) return false;
    return value
        .slice(1)
        .split("/")
        .every((seg) => seg !== "." && seg !== ".." && SEGMENT.test(seg));
}

/**
 * A path on a host, as hearth puts it into scripts, units and settings files: normalized, absolute, and made only of
 * characters no shell, glob, systemd specifier or bind syntax gives a meaning to.
 */
export function hostPath(arg: string, value: unknown, opts: HostPathOptions = {}): string {
    if (!isHostPath(value)) throw new ArgumentError(arg, value, HOST_PATH_ALLOWED);
    if (opts.notSystemTree && isSystemTree(value)) throw new ArgumentError(arg, value, SYSTEM_TREE_ALLOWED);
    return value;
}

// ---- names -----------------------------------------------------------------------------------------------------

/** An identifier checked against an anchored pattern (`allowed` says what the pattern means, in words). */
export function name(arg: string, value: unknown, pattern: RegExp, allowed: string): string {
    if (!pattern.source.startsWith("^") || !pattern.source.endsWith("$") || pattern.global || pattern.sticky) {
        throw new Error(`the pattern for ${arg} must be anchored (^...$) and neither global nor sticky`);
    }
    if (typeof value !== "string" || !pattern.test(value)) throw new ArgumentError(arg, value, allowed);
    return value;
}

// ---- free text -------------------------------------------------------------------------------------------------

/** C0 controls other than TAB and LF, DEL and C1. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
const LINE_CONTROL = /[\t\n]/;
/** Direction marks, embeddings, overrides and isolates that reorder what a reader sees. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** Characters that render as nothing and so hide text. */
const ZERO_WIDTH = /[\u200b-\u200d\u2060\ufeff]/;
const SEPARATOR = /[\u2028\u2029]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export interface FreeTextOptions {
    /** At most this many UTF-16 code units. */
    readonly maxLength: number;
    /** @default 0 */
    readonly minLength?: number;
    /** Refuse TAB and LF too. @default true */
    readonly oneLine?: boolean;
}

/** What is wrong with a text, or undefined: used by freeText and by callers that add rules of their own. */
export function freeTextProblem(value: string, opts: FreeTextOptions): string | undefined {
    const oneLine = opts.oneLine ?? true;
    if (value.length < (opts.minLength ?? 0) || value.length > opts.maxLength) return "length";
    if (CONTROL.test(value) || (oneLine && LINE_CONTROL.test(value))) return "a control character";
    if (BIDI.test(value)) return "a bidirectional control character";
    if (ZERO_WIDTH.test(value)) return "a zero-width character";
    if (SEPARATOR.test(value)) return "a line or paragraph separator";
    if (LONE_SURROGATE.test(value)) return "an unpaired surrogate";
    return undefined;
}

export function freeTextAllowed(opts: FreeTextOptions): string {
    const min = opts.minLength ?? 0;
    const size = min > 0 ? `${min} to ${opts.maxLength}` : `at most ${opts.maxLength}`;
    const lines = opts.oneLine ?? true ? "one line of" : "text of";
    return (
        `${lines} ${size} characters without control characters${opts.oneLine ?? true ? "" : " (other than tab and newline)"}, ` +
        "bidirectional overrides, embeddings, isolates or marks, zero-width characters, line or paragraph separators or unpaired surrogates"
    );
}

/**
 * Text a person reads (a description, an argument, an environment value): no control characters (C0, DEL, C1), no
 * bidi overrides, embeddings, isolates or marks (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), no
 * zero-width characters (U+200B–U+200D, U+2060, U+FEFF), no U+2028/U+2029 and no unpaired surrogates.
 */
export function freeText(arg: string, value: unknown, opts: FreeTextOptions): string {
    if (typeof value !== "string" || freeTextProblem(value, opts) !== undefined) throw new ArgumentError(arg, value, freeTextAllowed(opts));
    return value;
}

/** What a host address may be: an IP literal or a DNS name. */
export const HOST_ADDRESS_ALLOWED = "an IPv4 or IPv6 address, or a DNS name (labels of letters, digits and '-', at most 253 characters)";

const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Whether a value is an IP literal (no zone index) or a DNS name. */
export function isHostAddress(value: unknown): value is string {
    if (typeof value !== "string" || value.length === 0 || value.length > 253) return false;
    if (isIP(value) !== 0) return !value.includes("%");
    const labels = value.split(".");
    // A name whose last label is all digits would be read as a (malformed) IPv4 address.
    return labels.every((l) => DNS_LABEL.test(l)) && !/^[0-9]+$/.test(labels[labels.length - 1]);
}

/** An address to connect to (ssh, a database URI): an IP literal or a DNS name, nothing a URI or a shell reads more into. */
export function hostAddress(arg: string, value: unknown): string {
    if (!isHostAddress(value)) throw new ArgumentError(arg, value, HOST_ADDRESS_ALLOWED);
    return value;
}

// ---- configuration files ---------------------------------------------------------------------------------------

/**
 * Trees (and files) a HostFile never writes, each with the reason: hearth relies on them, another hearth component
 * owns them, or a file there runs code as root or grants root (a config file must stay a config file). A path is
 * refused when it is one of these or lies below one; a name ending in `*` refuses every path that starts with it.
 */
export const CONFIG_REFUSED: readonly (readonly [string, string])[] = [
    // hearth's own trees, and every path another hearth component writes (components/*/render.ts).
    ["/etc/hearth", "hearth's own keys and configs (ZfsDataset's keys, PostgresDb's pg_hba and pgbouncer fragments, DnsZone's knot.conf and zones)"],
    ["/usr/local/etc/hearth", "SystemdService's files"],
    ["/etc/systemd", "systemd's units, drop-ins and .nspawn files (SystemdService, NspawnContainer and DebianPackages' masks own them)"],
    ["/etc/credstore*", "SystemdService's credentials"],
    ["/etc/wireguard", "WireGuard keys and configs (WireguardLink owns them)"],
    ["/etc/knot", "Knot DNS configs and zones (DnsZone owns them)"],
    ["/etc/postgresql", "PostgreSQL's configs and pg_hba.conf (PostgresDb owns them; the tree is postgres's, not root's)"],
    ["/etc/postgresql-common", "PostgreSQL's cluster defaults (PostgresDb relies on them)"],
    ["/etc/pgbouncer", "pgbouncer's config, its database list and password files (PostgresDb manages pgbouncer: pgbouncer.ini, hearth-databases.ini, hearth-userlist.txt, userlist.txt)"],
    ["/etc/zfs", "ZFS event scripts (run as root) and the pool cache (ZfsDataset relies on them)"],
    ["/etc/default/zfs", "ZFS's boot settings, sourced as shell by root init scripts (ZfsDataset relies on them)"],
    ["/etc/apt", "package sources, keys and hooks (run as root; DebianPackages relies on apt)"],
    ["/etc/dpkg", "dpkg hooks (run as root)"],
    ["/etc/alternatives", "the links every program name resolves through (e.g. awk, editor: root runs them)"],
    // access to the host, and what grants root
    ["/etc/ssh", "sshd's config and host keys (hearth's own access and host-key pinning)"],
    ["/etc/sudo*", "sudo's policy (grants root)"],
    ["/etc/pam.d", "authentication (grants access)"],
    ["/etc/security", "authentication limits and access rules"],
    ["/etc/polkit-1", "privilege rules (grants root actions)"],
    ["/etc/dbus-1", "D-Bus policy (grants access to root services)"],
    ["/etc/apparmor*", "mandatory access control"],
    ["/etc/selinux", "mandatory access control"],
    ["/etc/ssl", "the TLS trust store (trusted by every client)"],
    ["/etc/ca-certificates*", "the TLS trust store (trusted by every client)"],
    ["/etc/skel", "files copied into every new user's home (their shell startup code)"],
    ["/etc/default/useradd", "the defaults of every new user (home, shell, skeleton)"],
    // scheduled commands, init and boot
    ["/etc/cron*", "scheduled commands (run as root)"],
    ["/etc/anacrontab", "scheduled commands (run as root)"],
    ["/etc/at.allow", "scheduled commands"],
    ["/etc/at.deny", "scheduled commands"],
    ["/etc/init.d", "init scripts (run as root)"],
    ["/etc/rc.local", "init scripts (run as root)"],
    ["/etc/rcS.d", "init scripts (run as root)"],
    ["/etc/rc0.d", "init scripts (run as root)"],
    ["/etc/rc1.d", "init scripts (run as root)"],
    ["/etc/rc2.d", "init scripts (run as root)"],
    ["/etc/rc3.d", "init scripts (run as root)"],
    ["/etc/rc4.d", "init scripts (run as root)"],
    ["/etc/rc5.d", "init scripts (run as root)"],
    ["/etc/rc6.d", "init scripts (run as root)"],
    ["/etc/kernel", "kernel install hooks (run as root)"],
    ["/etc/initramfs-tools", "the initramfs (runs before anything else)"],
    ["/etc/dracut*", "the initramfs (runs before anything else; install_items and hooks)"],
    ["/etc/grub.d", "the boot loader"],
    ["/etc/default/grub", "the boot loader"],
    ["/etc/udev", "device rules (run commands as root)"],
    ["/etc/modprobe.d", "kernel module options and install commands (run as root)"],
    ["/etc/modules-load.d", "kernel modules"],
    ["/etc/depmod.d", "which kernel module file is loaded for a name (code in the kernel)"],
    ["/etc/ld.so*", "the dynamic loader (code loaded into every program)"],
    ["/etc/binfmt.d", "binary format handlers (run for every matching program)"],
    ["/etc/tmpfiles.d", "systemd-tmpfiles rules (create, chown and link any path as root)"],
    ["/etc/sysusers.d", "system users"],
    // code that runs as root (or in every user's programs) at a login, a hook or an event
    ["/etc/profile.d", "login shell code (runs as root on a root login)"],
    ["/etc/bash_completion.d", "shell code sourced by every interactive bash (root's too)"],
    ["/etc/environment.d", "the environment of every user's session and user manager (LD_PRELOAD, PATH)"],
    ["/etc/update-motd.d", "login scripts (run as root)"],
    ["/etc/perl", "Perl modules loaded before the system's (by every Perl program root runs: debconf, needrestart)"],
    ["/etc/python*", "sitecustomize.py and modules imported by every Python program (root's too)"],
    ["/etc/X11", "X session scripts (Xsession.d) and the X server's settings"],
    ["/etc/xdg", "autostart entries and user units run in every user's session"],
    ["/etc/needrestart", "needrestart's config, itself Perl code run as root after every apt run"],
    ["/etc/logrotate.d", "postrotate scripts (run as root)"],
    ["/etc/rsyslog.d", "rsyslog's config (omprog runs programs as root)"],
    ["/etc/letsencrypt", "certbot's keys and renewal configs (their hooks run as root)"],
    ["/etc/acpi", "ACPI event actions (run as root)"],
    ["/etc/mdadm", "mdadm's config (its PROGRAM runs as root on every event)"],
    ["/etc/ppp", "PPP link scripts (ip-up.d and ip-down.d run as root)"],
    ["/etc/resolvconf", "resolvconf's update hooks (run as root)"],
    ["/etc/dhcp", "the DHCP client's config and hooks (dhclient's hook scripts run as root)"],
    // kernel, firewall and network (the host baseline)
    ["/etc/sysctl*", "kernel settings (the host baseline owns them)"],
    ["/etc/nftables*", "the firewall (the host baseline owns the ruleset)"],
    ["/etc/iptables", "the firewall"],
    ["/etc/network", "network configuration (hook scripts run as root)"],
    ["/etc/NetworkManager", "network configuration (dispatcher scripts run as root)"],
];

/** Where a configuration file may go, in words. */
export const CONFIG_PATH_ALLOWED =
    "a file in a configuration tree: /etc/<package>/… (at least one directory below /etc), /etc/default/<name> or /usr/local/etc/…, " +
    "not ending in '.hearth-orig' nor starting a segment with '.hearth.', and not in a tree hearth relies on or one that runs code as root " +
    `(${CONFIG_REFUSED.map(([t]) => t).join(", ")})`;

/** The refused tree a (checked) path lies in, with the reason, or undefined. */
export function refusedConfigTree(p: string): readonly [string, string] | undefined {
    return CONFIG_REFUSED.find(([t]) => (t.endsWith("*") ? p.startsWith(t.slice(0, -1)) : p === t || p.startsWith(`${t}/`)));
}

/** What is wrong with `value` as a configuration file path (CONFIG_PATH_ALLOWED, or the refused tree's reason), or undefined. */
export function configPathProblem(value: unknown): string | undefined {
    if (!isHostPath(value)) return `${HOST_PATH_ALLOWED}, and ${CONFIG_PATH_ALLOWED}`;
    const segs = value.slice(1).split("/");
    const inTree =
        (segs[0] === "etc" && segs[1] === "default" && segs.length === 3) ||
        (segs[0] === "etc" && segs[1] !== "default" && segs.length >= 3) ||
        (segs[0] === "usr" && segs[1] === "local" && segs[2] === "etc" && segs.length >= 4);
    if (!inTree || value.endsWith(".hearth-orig") || segs.some((s) => s.startsWith(".hearth."))) return CONFIG_PATH_ALLOWED;
    const refused = refusedConfigTree(value);
    if (refused) return `a configuration file outside ${refused[0]}, which hearth never writes: ${refused[1]}`;
    return undefined;
}

/**
 * A configuration file hearth may write (HostFile): a normalized host path inside an allow-list of configuration
 * trees, outside every tree hearth relies on or that runs code as root (CONFIG_REFUSED).
 */
export function configPath(arg: string, value: unknown): string {
    const why = configPathProblem(value);
    if (why !== undefined) throw new ArgumentError(arg, value, why);
    return value as string;
}

// ---- service directories ---------------------------------------------------------------------------------------

/** The directories systemd creates for a service and chowns to its user (`StateDirectory=` and the like), by argument kind. */
export type ServiceDirectoryKind = "state" | "cache" | "runtime" | "logs" | "configuration";

/** Where each kind of service directory lives. */
export const SERVICE_DIRECTORY_ROOTS: Readonly<Record<ServiceDirectoryKind, string>> = {
    state: "/var/lib",
    cache: "/var/cache",
    runtime: "/run",
    logs: "/var/log",
    configuration: "/etc",
};

/**
 * First segments a service directory never takes, by kind. systemd creates the directory (and, for a dynamic user,
 * moves it below `private/`) and chowns it to the service's user: named after hearth's own tree (/var/lib/hearth's
 * records, /run/hearth's locks) or a system tree, it would hand that tree to a less privileged user.
 */
export const RESERVED_SERVICE_DIRECTORIES: Readonly<Record<ServiceDirectoryKind, readonly string[]>> = {
    state: ["hearth", "private", "systemd", "dpkg", "apt", "ucf", "postgresql", "knot", "machines", "sudo", "polkit-1", "dbus", "pam"],
    cache: ["hearth", "private", "apt", "debconf", "man", "ldconfig"],
    runtime: [
        "hearth", "systemd", "user", "lock", "sshd", "dbus", "udev", "postgresql", "knot", "credentials", "host", "log", "mount", "sudo", "shm", "netns",
        "initramfs",
    ],
    logs: ["hearth", "journal", "private", "postgresql", "apt"],
    configuration: ["hearth"],
};

const SERVICE_DIRECTORY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,63}){0,3}$/;

export const SERVICE_DIRECTORY_ALLOWED = "a relative path of 1 to 4 segments, each starting with a letter or digit (letters, digits, . _ -), no '..'";

/** What a service directory of this kind may be, in words: the path rule and the reserved first segments. */
export function serviceDirectoryAllowed(kind: ServiceDirectoryKind): string {
    const root = SERVICE_DIRECTORY_ROOTS[kind];
    return (
        `${SERVICE_DIRECTORY_ALLOWED}, whose first segment is not reserved under ${root} ` +
        `(systemd hands the directory to the service's user; hearth's own and the system's trees stay root's): not ${RESERVED_SERVICE_DIRECTORIES[kind].join(", ")}`
    );
}

/** What is wrong with `value` as a service directory of this kind (serviceDirectoryAllowed), or undefined. */
export function serviceDirectoryProblem(kind: ServiceDirectoryKind, value: unknown): string | undefined {
    if (typeof value !== "string" || !SERVICE_DIRECTORY.test(value)) return serviceDirectoryAllowed(kind);
    // Segments start with a letter or digit, so none is '.' or '..'; only the first decides which tree it is in.
    if (RESERVED_SERVICE_DIRECTORIES[kind].includes(value.split("/")[0])) return serviceDirectoryAllowed(kind);
    return undefined;
}

/**
 * A directory systemd creates for a service below its kind's root (`StateDirectory=` below /var/lib, ...): a
 * relative path by the pattern, never in hearth's own or a system tree (RESERVED_SERVICE_DIRECTORIES).
 */
export function serviceDirectory(arg: string, kind: ServiceDirectoryKind, value: unknown): string {
    const why = serviceDirectoryProblem(kind, value);
    if (why !== undefined) throw new ArgumentError(arg, value, why);
    return value as string;
}
