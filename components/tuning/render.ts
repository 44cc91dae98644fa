// HostTuning rendering (pure: no Pulumi): the converge and delete scripts over the runtime's tuning section
// (hearth_sysctl_*, hearth_tuning_*). The sysctl file and the time-server drop-in are stdin frames (hearth_install, so
// the drift check compares them); the hostname and the /etc/hosts block are words of the script.
import { createHash } from "crypto";
import type { OwnerMark } from "../core/owner";
import { contentHash, Script, shq } from "../core/shell";

/** The one sysctl file hearth writes (persisted for boot; later names, e.g. 99-sysctl.conf, win over it). */
export const SYSCTL_CONF = "/etc/sysctl.d/60-hearth.conf";
/** The systemd-timesyncd drop-in with the time servers. */
export const TIMESYNC_DROPIN = "/etc/systemd/timesyncd.conf.d/60-hearth.conf";

export interface HostsEntry {
    readonly address: string;
    readonly names: readonly string[];
}

export interface TuningSpec {
    /** Key and the text written for it (as the kernel prints it back), sorted by key. */
    readonly sysctls: readonly (readonly [string, string])[];
    /** The reason for each value that weakens the host (written above its line). */
    readonly loosen?: Readonly<Record<string, string>>;
    readonly timeSync?: { readonly servers: readonly string[]; readonly fallbackServers?: readonly string[] };
    readonly hostname?: string;
    readonly hosts: readonly HostsEntry[];
}

export interface RenderedTuning {
    readonly script: string;
    readonly deleteScript: string;
    /** The stdin frames of the converge, in the order it reads them. */
    readonly frames: readonly string[];
    readonly check: readonly string[];
    readonly hash: string;
}

/** The sysctl file's text: hearth's mark, then one `key = value` line per key. */
export function renderSysctlConf(spec: TuningSpec, mark: OwnerMark): string {
    return [`# hearth-owner: ${mark.id}`, "# Kernel settings of this host, written by hearth (HostTuning); changes here are overwritten.", ...spec.sysctls.flatMap(([k, v]) => [...(spec.loosen?.[k] !== undefined ? [`# loosened: ${spec.loosen[k]}`] : []), `${k} = ${v}`]), ""].join("\n");
}

/** The timesyncd drop-in's text. */
export function renderTimesyncDropin(t: NonNullable<TuningSpec["timeSync"]>, mark: OwnerMark): string {
    return [
        `# hearth-owner: ${mark.id}`,
        "# Time servers of this host, written by hearth (HostTuning); changes here are overwritten.",
        "[Time]",
        `NTP=${t.servers.join(" ")}`,
        ...(t.fallbackServers !== undefined ? [`FallbackNTP=${t.fallbackServers.join(" ")}`] : []),
        "",
    ].join("\n");
}

/** The lines of hearth's /etc/hosts block (without the markers), one per entry; empty for none. */
export function renderHostsBlock(hosts: readonly HostsEntry[]): string {
    return hosts.map((e) => `${e.address}\t${e.names.join(" ")}`).join("\n");
}

export function renderTuning(spec: TuningSpec, mark: OwnerMark): RenderedTuning {
    const frames: string[] = [];
    const pairs = spec.sysctls.flatMap(([k, v]) => [k, v]).map(shq).join(" ");
    const keys = spec.sysctls.map(([k]) => shq(k)).join(" ");
    const s = new Script("HostTuning").owner(mark);
    s.raw("hearth_lock tuning", `hearth_tuning_claim ${shq(SYSCTL_CONF)} ${shq(TIMESYNC_DROPIN)}`);
    // Everything the host must offer is checked before anything is written.
    if (spec.sysctls.length) s.raw(`hearth_sysctl_ready ${pairs}`);
    if (spec.timeSync) s.raw(`hearth_unit_file_exists systemd-timesyncd.service || hearth_die 65 ${shq("timeSync: systemd-timesyncd is not installed on this host (install the systemd-timesyncd package first, e.g. with HostPackages)")}`);
    s.raw("hearth_tuning_hosts_ready", 'hearth_record tuning/owner "$hearth_owner"');
    if (spec.sysctls.length) {
        // Live first: a value the kernel refuses stops the converge before it is persisted for boot.
        s.raw(`hearth_sysctl_apply ${pairs}`);
        s.install({ path: SYSCTL_CONF, content: "", mode: 0o644 });
        frames.push(renderSysctlConf(spec, mark));
    } else {
        s.raw(`if hearth_mine "$(hearth_file_owner ${shq(SYSCTL_CONF)})"; then hearth_remove ${shq(SYSCTL_CONF)}; fi`);
    }
    // No key kept: an empty word (a call without arguments reads as a mistake to shellcheck).
    s.raw(`hearth_sysctl_release ${keys || "''"}`);
    if (spec.timeSync) {
        s.install({ path: TIMESYNC_DROPIN, content: "", mode: 0o644 });
        frames.push(renderTimesyncDropin(spec.timeSync, mark));
        s.raw(`hearth_tuning_timesync ${shq(TIMESYNC_DROPIN)}`);
    } else {
        s.raw(`hearth_tuning_timesync_off ${shq(TIMESYNC_DROPIN)}`);
    }
    s.raw(spec.hostname !== undefined ? `hearth_tuning_hostname ${shq(spec.hostname)}` : "hearth_tuning_hostname_release");
    const block = renderHostsBlock(spec.hosts);
    s.raw(`hearth_tuning_hosts ${shq(block)}`);

    const d = new Script("HostTuning (delete)").owner(mark);
    d.raw(
        "hearth_lock tuning",
        'found=$(hearth_applied tuning/owner)',
        // Nothing recorded, or another resource's: nothing here is this resource's to put back.
        'if [ -z "$found" ] || ! hearth_mine "$found"; then exit 0; fi',
        "hearth_sysctl_release ''",
        `if hearth_mine "$(hearth_file_owner ${shq(SYSCTL_CONF)})"; then hearth_remove ${shq(SYSCTL_CONF)}; fi`,
        `hearth_tuning_timesync_off ${shq(TIMESYNC_DROPIN)}`,
        "hearth_tuning_hosts ''",
        "hearth_tuning_hostname_release",
        "hearth_forget tuning/owner",
    );
    const check = [
        ...spec.sysctls.map(([k, v]) => ["hearth_sysctl_check_live", k, v].map(shq).join(" ")),
        ...(spec.hostname !== undefined ? [`hearth_tuning_check_hostname ${shq(spec.hostname)}`] : []),
        ...(spec.timeSync ? ["hearth_tuning_check_timesync"] : []),
        `hearth_tuning_check_hosts ${block ? createHash("sha256").update(block + "\n").digest("hex") : "none"}`,
    ];
    const script = s.render();
    const deleteScript = d.render();
    return { script, deleteScript, frames, check, hash: contentHash(script, deleteScript) };
}
