// The packaged units hearth never masks, whatever package ships them: what an operator reaches the host through, what
// boots, logs, names and connects it (SystemdService's lifeline units among them), and what other hearth components
// run (PostgresDb's server and pooler, ZfsDataset's pools, NspawnContainer's machined and nspawn units, a WireGuard
// link). One list: the converge script gets it as one POSIX extended regular expression, the specs as this RegExp.
// Pure (no Pulumi).

/** Unit name stems (before an optional `@instance` and the suffix) that are never masked. ERE and JS alike. */
const PROTECTED_STEMS = [
    "sshd?", // ssh.service, ssh.socket, ssh@.service, sshd.service (the alias)
    "(serial-|console-|container-)?getty", // consoles: getty@, serial-getty@, console-getty, container-getty@
    "autovt",
    "dbus.*", // dbus.service, dbus.socket, dbus-broker, dbus-org.freedesktop.* aliases
    "systemd-.*", // journald, logind, networkd, resolved, machined, nspawn@, tmpfiles, fsck@, timesyncd, ...
    "user(-runtime-dir)?", // user@.service, user-runtime-dir@.service: every login's manager
    "modprobe",
    "kmod-static-nodes",
    "emergency",
    "rescue",
    "initrd-.*",
    "networking", // ifupdown's network
    "ifup",
    "ifupdown-pre",
    "postgresql.*", // postgresql.service, postgresql@.service (PostgresDb)
    "pgbouncer", // PostgresDb's pooler
    "zfs.*", // zfs-import-cache, zfs-mount, zfs-zed, zfs-fuse, zfs-share... (ZfsDataset)
    "wg-quick", // wg-quick@.service (wireguard-tools)
];

/** The expression the converge script matches a unit name against (bash `[[ =~ ]]`, POSIX ERE). */
export const PROTECTED_UNIT_ERE = `^(${PROTECTED_STEMS.join("|")})(@[^/]*)?[.](service|socket|timer|path)$`;

const PROTECTED_UNIT = new RegExp(PROTECTED_UNIT_ERE);

/** A unit hearth or the host cannot live without: never masked by DebianPackages, counted as kept. */
export function isProtectedUnit(unit: string): boolean {
    return PROTECTED_UNIT.test(unit);
}
