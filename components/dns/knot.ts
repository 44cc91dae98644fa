// Pure rendering for the host backend: Knot DNS configuration and the scripts that install, check and serve a zone (the unit is a SystemdService).
//
// The scripts are call sequences over the runtime (components/core/runtime.sh). knotd is restarted when the digest of
// its config differs from the one recorded (`hearth_applied knot/<zone>`) after the last restart that served the
// zone, and the zone reloaded when knotd serves another serial than the served file's: both levels, so a run killed
// at any step is finished by the next. knot.conf and the zone files carry the owning resource's mark.
import { OwnerMark } from "../core/owner";
import { contentHash, RenderedFile, Script, shq } from "../shell";

/** Where one zone's server lives on a host. */
export interface ServerLayout {
    readonly zone: string;
    /** Unit base, runtime and state directory name. */
    readonly id: string;
    readonly unit: string;
    readonly unitPath: string;
    readonly dir: string;
    readonly conf: string;
    /** The same configuration pointed at the staged zone: `knotc zone-check` with it tests a zone before it is served. */
    readonly checkConf: string;
    readonly staged: string;
    readonly live: string;
    readonly zoneFile: string;
}

export const DNS_ROOT = "/etc/hearth/dns";
export const KNOTD = "/usr/sbin/knotd";
export const KNOTC = "/usr/sbin/knotc";

/** The applied-state key of the records knotd served when the zone's converge last finished (normalized). */
export function servedKey(zone: string): string {
    return `knot/${zone}.served`;
}

export function serverLayout(zone: string): ServerLayout {
    // Unit names stay plain LDH; a long zone keeps a readable prefix and a hash so two zones never share a unit.
    let slug = zone.replace(/\./g, "-");
    if (slug.length > 48) slug = `${slug.slice(0, 39)}-${contentHash(zone).slice(0, 8)}`;
    const id = `hearth-dns-${slug}`;
    const dir = `${DNS_ROOT}/${zone}`;
    return {
        zone, id, unit: `${id}.service`, unitPath: `/etc/systemd/system/${id}.service`, dir,
        conf: `${dir}/knot.conf`, checkConf: `${dir}/check.conf`, staged: `${dir}/staged`, live: `${dir}/live`, zoneFile: `${zone}.zone`,
    };
}

function listenWord(address: string, port: number): string {
    return `"${address}@${port}"`;
}

export interface KnotConfSpec {
    readonly zone: string;
    readonly listen: readonly string[];
    readonly port: number;
    /** knotd's control socket and pid live here. */
    readonly rundir: string;
    /** knotd's timer and journal databases. */
    readonly database: string;
    /** The directory holding `<zone>.zone`. */
    readonly storage: string;
    /** The owning resource's mark, written as a comment. */
    readonly owner?: string;
}

/** The first line of knot.conf: the whole mark of earlier releases (shared by every resource). */
export function legacyConfMark(zone: string): string {
    return `# hearth: Knot DNS for ${zone}, rendered by DnsZone; edits here are overwritten`;
}

function oneLine(s: string): string {
    if (/[\r\n]/.test(s)) throw new Error(`must be one line: ${JSON.stringify(s)}`);
    return s;
}

/**
 * knot.conf for one zone. Knot answers authoritatively only (it has no recursion), refuses CHAOS identity and
 * version queries, allows no zone transfer or update (no ACL at all), loads the zone file whole and never writes
 * it back, and keeps no journal: the file hearth installs is the whole truth.
 */
export function renderKnotConf(c: KnotConfSpec): string {
    return [
        legacyConfMark(c.zone),
        ...(c.owner === undefined ? [] : [`# hearth-owner: ${oneLine(c.owner)}`]),
        "server:",
        `    rundir: "${c.rundir}"`,
        `    listen: [ ${c.listen.map((a) => listenWord(a, c.port)).join(", ")} ]`,
        `    identity: ""`,
        `    version: ""`,
        "",
        "database:",
        `    storage: "${c.database}"`,
        "",
        "log:",
        "  - target: stderr",
        "    any: info",
        "",
        "template:",
        "  - id: default",
        `    storage: "${c.storage}"`,
        `    file: "%s.zone"`,
        "    zonefile-sync: -1",
        "    zonefile-load: whole",
        "    journal-content: none",
        "    semantic-checks: on",
        "",
        "zone:",
        `  - domain: "${c.zone}"`,
        "",
    ].join("\n");
}

export interface ServerFiles {
    readonly knotConf: string;
    readonly checkConf: string;
    readonly zoneFile: string;
}

/** The files of one zone; the zone file is prefixed with the owner's mark (a comment: the serial does not change). */
export function serverFiles(layout: ServerLayout, listen: readonly string[], port: number, zoneFile: string, mark: OwnerMark): ServerFiles {
    const common = { zone: layout.zone, listen, port, rundir: `/run/${layout.id}`, database: `/var/lib/${layout.id}`, owner: mark.id };
    return {
        knotConf: renderKnotConf({ ...common, storage: layout.live }),
        checkConf: renderKnotConf({ ...common, storage: layout.staged }),
        zoneFile: `; hearth-owner: ${oneLine(mark.id)}\n${zoneFile}`,
    };
}


/**
 * Removes everything the zone in directory `$hearth_zdir` installed, and knotd's state `$hearth_zid` (when set),
 * knot.conf (which carries the mark) last, so a run killed on the way finds it again.
 */
function retireLines(): string[] {
    return [
        'hearth_clear "$hearth_zdir/live"',
        'hearth_clear "$hearth_zdir/staged"',
        'hearth_remove "$hearth_zdir/check.conf"',
        'hearth_remove "$hearth_zdir/.knot.conf.applied"',
        'if [ -n "$hearth_zid" ]; then',
        '  if [ -e "/var/lib/private/$hearth_zid" ] || [ -L "/var/lib/private/$hearth_zid" ]; then',
        '    rm -rf -- "/var/lib/private/$hearth_zid"',
        "    hearth_step",
        "  fi",
        '  hearth_remove "/var/lib/$hearth_zid"',
        "fi",
        'hearth_forget "knot/${hearth_zdir##*/}"',
        'hearth_forget "knot/${hearth_zdir##*/}.served"',
        'hearth_remove "$hearth_zdir/knot.conf"',
        'hearth_clear "$hearth_zdir"',
        'hearth_say "removed the zone files of ${hearth_zdir##*/}"',
    ];
}

/** knotd's state directory name, read from a knot.conf hearth wrote (`$hearth_zdir/knot.conf`). */
const STATE_ID = String.raw`hearth_zid=$(sed -n 's|^    storage: "/var/lib/\(hearth-dns-[a-z0-9-]*\)"$|\1|p' -- "$hearth_zdir/knot.conf" | head -n 1)`;

/**
 * The converge script, run after the knotd unit's SystemdService. It refuses a zone another resource owns, removes
 * the files of a zone this resource served under another name, stages the zone and has knot check it before it
 * replaces the served copy (a zone knot would refuse never goes live), then restarts knotd when its config differs
 * from the one it was last restarted on, reloads the zone when knotd serves another serial than the served file's,
 * and ends only when knotd serves that serial. A failed run leaves at most a staged file, which the next run replaces.
 */
export function renderServerScript(layout: ServerLayout, files: ServerFiles, mark: OwnerMark): { script: string; installed: readonly RenderedFile[] } {
    const s = new Script(`authoritative DNS for ${layout.zone}`).owner(mark);
    const zone = shq(layout.zone);
    const unit = shq(layout.unit);
    const liveFile = shq(`${layout.live}/${layout.zoneFile}`);
    const stagedFile = shq(`${layout.staged}/${layout.zoneFile}`);
    const knotc = (c: string) => `${KNOTC} -c ${shq(c)}`;
    const conf = shq(layout.conf);
    const key = shq(`knot/${layout.zone}`);
    const served = `${knotc(layout.conf)} zone-status ${zone} 2>/dev/null | sed -n 's/.*| serial: \\([0-9]*\\).*/\\1/p' || true`;
    s.raw(
        `if [ ! -x ${KNOTD} ] || [ ! -x ${KNOTC} ]; then hearth_die 69 "knotd not found on this host: install the Debian package knot"; fi`,
        "hearth_lock knot",
        `hearth_found=$(hearth_file_owner ${conf} ${shq(legacyConfMark(layout.zone))})`,
        `if [ -e ${conf} ] || [ -L ${conf} ]; then hearth_claim ${shq(`the zone ${layout.zone} (${layout.conf})`)} "$hearth_found"; fi`,
        // The zone was renamed within this resource: what the old name installed goes (found by this resource's mark).
        `mapfile -t hearth_olds < <(hearth_marked ${shq(DNS_ROOT)}/*/knot.conf)`,
        'for hearth_old in "${hearth_olds[@]}"; do',
        `  if [ "$hearth_old" = ${conf} ]; then continue; fi`,
        "  hearth_zdir=${hearth_old%/knot.conf}",
        `  ${STATE_ID}`,
        ...retireLines().map((l) => `  ${l}`),
        "done",
        `hearth_dir ${shq(layout.staged)} 0755`,
        `hearth_dir ${shq(layout.live)} 0755`,
        // /etc/hearth may exist with mode 0700 (hearth scripts run under umask 077); knotd's dynamic user only needs to traverse it.
        `for hearth_d in /etc/hearth ${shq(DNS_ROOT)} ${shq(layout.dir)}; do`,
        '  if (((8#$(stat -c %a -- "$hearth_d") & 8#011) != 8#011)); then',
        '    chmod go+x -- "$hearth_d"',
        "    hearth_step",
        "  fi",
        "done",
    );
    s.install({ path: layout.conf, content: files.knotConf, mode: 0o644 });
    s.install({ path: layout.checkConf, content: files.checkConf, mode: 0o644 });
    s.install({ path: `${layout.staged}/${layout.zoneFile}`, content: files.zoneFile, mode: 0o644 });
    s.raw(
        `if ! hearth_check=$(${knotc(layout.checkConf)} zone-check ${zone} 2>&1); then`,
        `  hearth_die 65 "$(printf 'knot refused the zone %s; the served zone is unchanged:\\n%s' ${zone} "$hearth_check")"`,
        "fi",
        `hearth_tmp_in ${shq(layout.live)}`,
        `cat -- ${stagedFile} >"$hearth_tmp"`,
        `hearth_put "$hearth_tmp" ${liveFile} 0644 root root`,
        `if [ ! -f ${shq(layout.unitPath)} ]; then hearth_die 1 ${shq(`${layout.unit} is not installed (its SystemdService comes first)`)}; fi`,
        // The serial comes from the served file, so the script text stays the same while record data arrives later.
        `hearth_serial=$(awk '$4 == "SOA" { print $7; exit }' ${liveFile})`,
        `hearth_want=$(hearth_digest ${conf})`,
        `hearth_was=$(hearth_applied ${key})`,
        // An earlier release kept a copy of the config knotd last ran with.
        `if [ -z "$hearth_was" ] && cmp -s -- ${conf} ${shq(`${layout.dir}/.knot.conf.applied`)}; then hearth_was=$hearth_want; fi`,
        `if ! systemctl is-active --quiet ${unit}; then`,
        // A first deploy (the unit started before this config existed), or a unit change the old config could not
        // run under (a new port): start afresh.
        `  systemctl reset-failed ${unit} 2>/dev/null || true`,
        `  systemctl restart ${unit}`,
        "  hearth_step",
        'elif [ "$hearth_was" != "$hearth_want" ]; then',
        `  systemctl restart ${unit}`,
        "  hearth_step",
        `elif [ "$(${served})" != "$hearth_serial" ]; then`,
        `  ${knotc(layout.conf)} zone-reload ${zone} >/dev/null`,
        "  hearth_step",
        "fi",
        "hearth_served=",
        "for _ in $(seq 1 100); do",
        `  hearth_served=$(${served})`,
        '  if [ "$hearth_served" = "$hearth_serial" ]; then break; fi',
        "  sleep 0.1",
        "done",
        'if [ "$hearth_served" != "$hearth_serial" ]; then',
        `  journalctl -u ${unit} -n 20 --no-pager >&2 || true`,
        `  hearth_die 1 "knotd serves serial '\${hearth_served:-none}' for ${layout.zone}, expected $hearth_serial"`,
        "fi",
        `hearth_record ${key} "$hearth_want"`,
        // What knotd serves now is the zone file's records: the check compares what it serves later with this copy.
        `hearth_zone_read=$(hearth_knot_served ${conf} ${zone}) || hearth_die 1 ${shq(`knotc zone-read ${layout.zone} failed`)}`,
        `hearth_record ${shq(servedKey(layout.zone))} "$hearth_zone_read"`,
        `hearth_remove ${shq(`${layout.dir}/.knot.conf.applied`)}`,
        `hearth_say "${layout.zone} served with serial $hearth_serial"`,
    );
    return { script: s.render(), installed: s.installedFiles };
}

/**
 * The zone's own drift check (core/check.ts): knotd serves the records it served when the converge last finished
 * (the generic checks compare the installed zone file with the declared records).
 */
export function renderServerCheck(layout: ServerLayout): string[] {
    return [["hearth_check_knot_zone", layout.conf, layout.zone, servedKey(layout.zone)].map(shq).join(" ")];
}

/**
 * Removes the zone's files and knotd's state when this resource owns them (the zone is declared in code, so
 * nothing here is data a user could lose); otherwise touches nothing and says so.
 */
export function renderServerDeleteScript(layout: ServerLayout, mark: OwnerMark): string {
    const conf = shq(layout.conf);
    return new Script(`remove the zone files of ${layout.zone}`).owner(mark).raw(
        "hearth_lock knot",
        `hearth_zdir=${shq(layout.dir)}`,
        `if [ ! -e ${conf} ]; then`,
        '  hearth_rmdir "$hearth_zdir"',
        `  hearth_say ${shq(`nothing of the zone ${layout.zone} is left to remove`)}`,
        "  exit 0",
        "fi",
        `hearth_found=$(hearth_file_owner ${conf} ${shq(legacyConfMark(layout.zone))})`,
        'if ! hearth_mine "$hearth_found"; then',
        `  hearth_say ${shq(`leaving the zone ${layout.zone} alone: it is owned by`)}" \${hearth_found:-no hearth resource}, not $hearth_owner"`,
        "  exit 0",
        "fi",
        `hearth_zid=${shq(layout.id)}`,
        ...retireLines(),
    ).render();
}
