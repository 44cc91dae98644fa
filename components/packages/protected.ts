// The packaged units hearth never masks, whatever package ships them: what an operator reaches the host through, what
// boots, logs, names and connects it (SystemdService's lifeline units among them), and what other hearth components
// run (PostgresDb's server and pooler, ZfsDataset's pools, NspawnContainer's machined and nspawn units, a WireGuard
// link), and the host's storage upkeep (software RAID, LVM). One list: the converge script gets it as one POSIX
// extended regular expression, the specs as this RegExp. Pure (no Pulumi).

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
    "syslog", // syslog.socket: rsyslog's unit Requires= it (and syslog.service, the alias of the host's syslog daemon)
    // Software RAID and LVM: assembling, monitoring, checking and scrubbing arrays, polling and monitoring volumes.
    "mdadm.*", // mdadm-grow-continue@, mdadm-last-resort@ (.timer and .service), mdadm-waitidle
    "mdmon.*", // mdmon@, mdmonitor, mdmonitor-oneshot (.timer and .service)
    "mdcheck_.*", // mdcheck_start, mdcheck_continue (.timer and .service)
    "lvm2.*", // lvm2-monitor, lvm2-lvmpolld (.socket and .service), lvm2-pvscan@
    "dm-event", // dm-event.socket and .service: device-mapper's event daemon, which LVM's monitoring uses
    "blk-availability",
];

/** The expression the converge script matches a unit name against (bash `[[ =~ ]]`, POSIX ERE). */
export const PROTECTED_UNIT_ERE = `^(${PROTECTED_STEMS.join("|")})(@[^/]*)?[.](service|socket|timer|path)$`;

const PROTECTED_UNIT = new RegExp(PROTECTED_UNIT_ERE);

/** A unit hearth or the host cannot live without: never masked by DebianPackages, counted as kept. */
export function isProtectedUnit(unit: string): boolean {
    return PROTECTED_UNIT.test(unit);
}
