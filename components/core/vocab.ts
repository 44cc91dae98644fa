// Names and patterns that components, the site config and the policy pack all speak: one list each.
//
// Pure: no Pulumi import.

/** Linux capabilities by number (capability.h, kernel 6.x), as systemd and nspawn know them. */
export const CAPABILITIES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
    "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Namespace types systemd's RestrictNamespaces= and nspawn know. */
export const NAMESPACES = ["cgroup", "ipc", "net", "mnt", "pid", "user", "uts"] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** A reason written for a loosening or an opt-in: one line of printable ASCII, at least a few words. */
export const REASON = /^[\x20-\x7e]{8,200}$/;
export const REASON_ALLOWED = "a one-line reason of 8 to 200 printable ASCII characters";
/** ...and one a reader can read: it has a word in it (a reason written into a unit or a policy waiver). */
export const REASON_WORDS = /[A-Za-z]{3}/;
export const REASON_WORDS_ALLOWED = "a reason in words (8 to 200 printable ASCII characters)";

/** A POSIX user name as Debian's adduser accepts it for a system user. */
export const POSIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
export const POSIX_USER_ALLOWED = "a POSIX user name ([a-z_][a-z0-9_-]{0,31})";

/** A WireGuard key (public, private or preshared) in base64: 32 bytes, so the last character before `=` is limited. */
export const WG_KEY_TEXT = "[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=";
export const WG_KEY = new RegExp(`^${WG_KEY_TEXT}$`);
export const WG_PUBLIC_KEY_ALLOWED = "a WireGuard public key: 44 characters of base64 encoding 32 bytes (the output of `wg pubkey`)";

/** Whether a value is a WireGuard key in base64 (32 bytes). */
export function isWgKey(value: unknown): value is string {
    return typeof value === "string" && WG_KEY.test(value);
}
