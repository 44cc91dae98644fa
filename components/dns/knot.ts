// Pure rendering for the host backend: Knot DNS configuration and the scripts that install, check and serve a zone (the unit is a SystemdService).
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

export const KNOTD = "/usr/sbin/knotd";
export const KNOTC = "/usr/sbin/knotc";

export function serverLayout(zone: string): ServerLayout {
    // Unit names stay plain LDH; a long zone keeps a readable prefix and a hash so two zones never share a unit.
    let slug = zone.replace(/\./g, "-");
    if (slug.length > 48) slug = `${slug.slice(0, 39)}-${contentHash(zone).slice(0, 8)}`;
    const id = `hearth-dns-${slug}`;
    const dir = `/etc/hearth/dns/${zone}`;
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
}

/**
 * knot.conf for one zone. Knot answers authoritatively only (it has no recursion), refuses CHAOS identity and
 * version queries, allows no zone transfer or update (no ACL at all), loads the zone file whole and never writes
 * it back, and keeps no journal: the file hearth installs is the whole truth.
 */
export function renderKnotConf(c: KnotConfSpec): string {
    return [
        `# hearth: Knot DNS for ${c.zone}, rendered by DnsZone; edits here are overwritten`,
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

export function serverFiles(layout: ServerLayout, listen: readonly string[], port: number, zoneFile: string): ServerFiles {
    const common = { zone: layout.zone, listen, port, rundir: `/run/${layout.id}`, database: `/var/lib/${layout.id}` };
    return {
        knotConf: renderKnotConf({ ...common, storage: layout.live }),
        checkConf: renderKnotConf({ ...common, storage: layout.staged }),
        zoneFile,
    };
}

/**
 * The converge script, run after the knotd unit's SystemdService. The zone is staged and checked by knot itself
 * before it replaces the served copy, so a zone knot would refuse never goes live. A config change restarts knotd,
 * a zone change reloads just the zone, and the script ends only when knotd serves the serial of the served file.
 * A failed run leaves at most a staged file, which the next run replaces.
 */
export function renderServerScript(layout: ServerLayout, files: ServerFiles): { script: string; installed: readonly RenderedFile[] } {
    const s = new Script(`authoritative DNS for ${layout.zone}`);
    const zone = shq(layout.zone);
    const unit = shq(layout.unit);
    const liveFile = shq(`${layout.live}/${layout.zoneFile}`);
    const stagedFile = shq(`${layout.staged}/${layout.zoneFile}`);
    const liveTmp = shq(`${layout.live}/.${layout.zoneFile}.hearth-new`);
    const knotc = (c: string) => `${KNOTC} -c ${shq(c)}`;
    const conf = shq(layout.conf);
    const applied = shq(`${layout.dir}/.knot.conf.applied`);
    s.raw(
        `if [ ! -x ${KNOTD} ] || [ ! -x ${KNOTC} ]; then echo "hearth: knotd not found on this host: install the Debian package knot" >&2; exit 69; fi`,
        // /etc/hearth may exist with mode 0700 (hearth scripts run under umask 077); knotd's dynamic user only needs to traverse it.
        `install -d -m 0755 /etc/hearth/dns ${shq(layout.dir)} ${shq(layout.staged)} ${shq(layout.live)}`,
        "chmod go+x /etc/hearth /etc/hearth/dns",
    );
    s.install({ path: layout.conf, content: files.knotConf, mode: 0o644 });
    s.install({ path: layout.checkConf, content: files.checkConf, mode: 0o644 });
    s.install({ path: `${layout.staged}/${layout.zoneFile}`, content: files.zoneFile, mode: 0o644 });
    s.raw(
        `if ! check_out=$(${knotc(layout.checkConf)} zone-check ${zone} 2>&1); then`,
        `  printf 'hearth: knot refused the zone %s; the served zone is unchanged:\\n%s\\n' ${zone} "$check_out" >&2`,
        "  exit 65",
        "fi",
        `if ! cmp -s -- ${stagedFile} ${liveFile}; then`,
        `  install -m 0644 -- ${stagedFile} ${liveTmp}`,
        `  mv -f -T -- ${liveTmp} ${liveFile}`,
        `  echo "hearth: serving a new ${layout.zoneFile}"`,
        "fi",
        `if [ ! -f ${shq(layout.unitPath)} ]; then echo "hearth: ${layout.unit} is not installed (its SystemdService comes first)" >&2; exit 1; fi`,
        // The serial comes from the served file, so the script text stays the same while record data arrives later.
        `serial=$(awk '$4 == "SOA" { print $7; exit }' ${liveFile})`,
        `served_serial() { ${knotc(layout.conf)} zone-status ${zone} 2>/dev/null | sed -n 's/.*| serial: \\([0-9]*\\).*/\\1/p' || true; }`,
        // What knotd runs with is compared with what it last ran with, not with the previous file: a run that wrote
        // the config and then failed still leaves the restart to the next run.
        `if ! systemctl is-active --quiet ${unit}; then`,
        // A first deploy (the unit started before this config existed), or a unit change the old config could not
        // run under (a new port): start afresh.
        `  systemctl reset-failed ${unit} 2>/dev/null || true`,
        `  systemctl restart ${unit}`,
        `elif ! cmp -s -- ${conf} ${applied}; then`,
        `  systemctl restart ${unit}`,
        `elif [ "$(served_serial)" != "$serial" ]; then`,
        `  ${knotc(layout.conf)} zone-reload ${zone} >/dev/null`,
        "fi",
        "served=",
        "for _ in $(seq 1 100); do",
        '  served=$(served_serial)',
        `  if [ "$served" = "$serial" ]; then break; fi`,
        "  sleep 0.1",
        "done",
        `if [ "$served" != "$serial" ]; then`,
        `  echo "hearth: knotd serves serial '\${served:-none}' for ${layout.zone}, expected $serial" >&2`,
        `  journalctl -u ${unit} -n 20 --no-pager >&2 || true`,
        "  exit 1",
        "fi",
        `install -m 0644 -- ${conf} ${applied}`,
        `echo "hearth: ${layout.zone} served with serial $serial"`,
    );
    return { script: s.render(), installed: s.installedFiles };
}

/** Removes the zone's files and knotd's state: the zone is declared in code, so nothing here is data a user could lose. */
export function renderServerDeleteScript(layout: ServerLayout): string {
    return new Script(`remove the zone files of ${layout.zone}`)
        .raw(`rm -rf -- ${shq(layout.dir)} ${shq(`/var/lib/private/${layout.id}`)}`, `rm -f -- ${shq(`/var/lib/${layout.id}`)}`)
        .render();
}
