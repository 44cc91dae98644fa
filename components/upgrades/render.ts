// HostUpgrades renderer (pure, no Pulumi): the resolved arguments in; the apt configuration, the upgrade-time drop-in,
// the reboot-window job's script, the converge and delete scripts and the drift check lines out.
//
// Everything the scripts decide is read from the host: which files carry this resource's mark, whether systemd holds
// the upgrade timer stale, whether apt's timers are enabled and active, what apt's configuration says once every file
// of /etc/apt/apt.conf.d is read. The reboot job decides from the host alone when it runs (runtime.sh:
// hearth_reboot_window): a reboot is required now, and now is inside the declared window.
import type { OwnerMark } from "../core/owner";
import { RUNTIME } from "../core/runtime";
import { contentHash, RenderedFile, Script, shq } from "../core/shell";

/** Debian's security archive for the host's own release: always upgraded. */
export const DEBIAN_SECURITY_ORIGIN = "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";

/** hearth's apt configuration: read after the packaged 50unattended-upgrades and debconf's 20auto-upgrades. */
export const UPGRADES_CONF = "/etc/apt/apt.conf.d/52hearth-upgrades";

/** apt's packaged timers that run `apt-get update` and unattended-upgrade; both are kept enabled and active. */
export const APT_TIMERS = ["apt-daily.timer", "apt-daily-upgrade.timer"] as const;

/** The timer the declared upgrade time goes on, and the drop-in that sets it. */
export const UPGRADE_TIMER = "apt-daily-upgrade.timer";
export const UPGRADE_DROPIN = `/etc/systemd/system/${UPGRADE_TIMER}.d/50-hearth.conf`;

/** The reboot window's job: its unit (and timer) name and the script it runs. */
export const REBOOT_UNIT = "hearth-reboot-window";
export const REBOOT_SCRIPT = "/usr/local/lib/hearth/reboot-window.sh";

/** The package that upgrades, and its unit kept unmasked (it holds a shutdown back while an upgrade runs). */
export const UPGRADES_PACKAGE = "unattended-upgrades";
export const UPGRADES_SHUTDOWN_UNIT = "unattended-upgrades.service";

export interface UpgradeTime {
    readonly onCalendar: string;
    readonly randomizedDelaySec: number;
}

export interface RebootWindow {
    readonly onCalendar: string;
    readonly durationMinutes: number;
}

/** What the renderer takes: the resolved arguments without the host. */
export interface UpgradesSpec {
    /** Every origin upgraded, Debian's security origin first. */
    readonly origins: readonly string[];
    readonly upgradeTime?: UpgradeTime;
    readonly rebootWindow?: RebootWindow;
}

export interface RenderedUpgrades {
    /** The files the converge installs, in the order their bodies travel on stdin. */
    readonly files: readonly RenderedFile[];
    readonly script: string;
    readonly deleteScript: string;
    /** The read-only drift check lines (runtime hearth_upgrades_check_*, hearth_reboot_check_*). */
    readonly check: readonly string[];
    readonly hash: string;
}

/** The resolved spec: Debian's security origin, then the extra ones as declared. */
export function upgradesSpec(a: { extraOrigins?: readonly string[]; upgradeTime?: { onCalendar: string; randomizedDelaySec?: number }; rebootWindow?: RebootWindow }): UpgradesSpec {
    return {
        origins: [DEBIAN_SECURITY_ORIGIN, ...(a.extraOrigins ?? [])],
        ...(a.upgradeTime ? { upgradeTime: { onCalendar: a.upgradeTime.onCalendar, randomizedDelaySec: a.upgradeTime.randomizedDelaySec ?? 0 } } : {}),
        ...(a.rebootWindow ? { rebootWindow: { onCalendar: a.rebootWindow.onCalendar, durationMinutes: a.rebootWindow.durationMinutes } } : {}),
    };
}

/**
 * The apt configuration. `#clear` drops the origins of every file read before (the packaged 50unattended-upgrades
 * lists the whole release, not only its security archive), so the origins upgraded are exactly these; a file read
 * after this one that changes them, or any file that sets one of the APT_EMPTY_LISTS, is what the converge refuses and
 * the check reports.
 */
export function renderAptConf(spec: UpgradesSpec, mark: OwnerMark): string {
    return [
        `# hearth-owner: ${mark.id}`,
        "// Managed by hearth (HostUpgrades): unattended upgrades of these origins only; hearth decides reboots.",
        ...APT_SETTINGS.map(([k, v]) => `${k} "${v}";`),
        "#clear Unattended-Upgrade::Allowed-Origins;",
        "#clear Unattended-Upgrade::Origins-Pattern;",
        "Unattended-Upgrade::Origins-Pattern {",
        ...spec.origins.map((o) => `        "${o}";`),
        "};",
        "",
    ].join("\n");
}

/**
 * The effective apt settings hearth's configuration makes (what `apt-config dump` must say), origins aside: the periodic
 * job on (APT::Periodic::Enable "0" switches all of it off), lists updated and unattended-upgrade run daily, upgrades in
 * the background (not at shutdown), no automatic reboot.
 */
export const APT_SETTINGS: readonly (readonly [string, string])[] = [
    ["APT::Periodic::Enable", "1"],
    ["APT::Periodic::Update-Package-Lists", "1"],
    ["APT::Periodic::Unattended-Upgrade", "1"],
    ["Unattended-Upgrade::InstallOnShutdown", "false"],
    ["Unattended-Upgrade::Automatic-Reboot", "false"],
];

/**
 * unattended-upgrades' lists that must be empty as apt reads them (hearth writes none of them): Allowed-Origins widens
 * the origins (hearth clears the packaged ones), Package-Blacklist and Package-Whitelist narrow the packages upgraded,
 * Update-Days the days an upgrade runs.
 */
export const APT_EMPTY_LISTS = ["Unattended-Upgrade::Allowed-Origins", "Unattended-Upgrade::Package-Blacklist", "Unattended-Upgrade::Package-Whitelist", "Unattended-Upgrade::Update-Days"] as const;

/** The drop-in that moves unattended-upgrade's run to the declared time (the empty OnCalendar= clears apt's). */
export function renderUpgradeDropIn(t: UpgradeTime, mark: OwnerMark): string {
    return [
        `# hearth-owner: ${mark.id}`,
        "# Managed by hearth (HostUpgrades): when unattended-upgrade runs.",
        "[Timer]",
        "OnCalendar=",
        `OnCalendar=${t.onCalendar}`,
        `RandomizedDelaySec=${t.randomizedDelaySec}`,
        "",
    ].join("\n");
}

/** The reboot window's script: the runtime and one call; the window is in its text, so a change of it reinstalls it. */
export function renderRebootScript(w: RebootWindow, mark: OwnerMark): string {
    return ["#!/bin/bash", `# hearth-owner: ${mark.id}`, RUNTIME, ["hearth_reboot_window", w.onCalendar, String(w.durationMinutes)].map(shq).join(" "), ""].join("\n");
}

/** The arguments of hearth_upgrades_config: each setting as KEY=VALUE, each list that must be empty as KEY::, then the origins. */
export const configArgs = (spec: UpgradesSpec) => [...APT_SETTINGS.map(([k, v]) => `${k}=${v}`), ...APT_EMPTY_LISTS.map((k) => `${k}::`), "--", ...spec.origins];

/** The arguments of hearth_upgrades_schedule: the upgrade timer, its declared calendar and delay in seconds. */
const scheduleArgs = (t: UpgradeTime) => [UPGRADE_TIMER, t.onCalendar, String(t.randomizedDelaySec)];

const line = (...words: readonly string[]) => words.map(shq).join(" ");

/** Claims PATH (dies when another resource's mark is on it) before the converge writes it. */
const claim = (p: string) => `if [ -e ${shq(p)} ] || [ -L ${shq(p)} ]; then hearth_claim ${shq(p)} "$(hearth_file_owner ${shq(p)})"; fi`;

/** Removes PATH when it carries this resource's mark (a file of anyone else is left alone). */
const removeMine = (p: string) => `if hearth_mine "$(hearth_file_owner ${shq(p)})"; then hearth_remove ${shq(p)}; fi`;

export function renderUpgrades(spec: UpgradesSpec, mark: OwnerMark): RenderedUpgrades {
    const files: RenderedFile[] = [{ path: UPGRADES_CONF, content: renderAptConf(spec, mark), mode: 0o644 }];
    const s = new Script("unattended upgrades and the reboot window").owner(mark);
    // One converge of these files at a time (a delete of a renamed resource runs beside the new one's converge).
    s.raw("hearth_lock upgrades");
    // Each calendar elapses again as systemd on this host reads it (a fixed past date never does): before anything is written.
    if (spec.upgradeTime) s.raw(line("hearth_upgrades_calendar", "upgradeTime.onCalendar", spec.upgradeTime.onCalendar));
    if (spec.rebootWindow) s.raw(line("hearth_upgrades_calendar", "rebootWindow.onCalendar", spec.rebootWindow.onCalendar));
    s.raw(claim(UPGRADES_CONF));
    if (spec.upgradeTime) s.raw(claim(UPGRADE_DROPIN));
    if (spec.rebootWindow) s.raw(claim(REBOOT_SCRIPT));
    s.install(files[0]);
    if (spec.upgradeTime) {
        files.push({ path: UPGRADE_DROPIN, content: renderUpgradeDropIn(spec.upgradeTime, mark), mode: 0o644 });
        s.install(files[files.length - 1]);
        s.raw(line("hearth_daemon_reload", "--dropin", UPGRADE_DROPIN, UPGRADE_TIMER));
        // The schedule systemd runs, every drop-in read: another drop-in that moves it stops here.
        s.raw(line("hearth_upgrades_schedule", ...scheduleArgs(spec.upgradeTime)));
    } else {
        // A removed drop-in leaves the timer stale (NeedDaemonReload) until a reload: read from systemd, so a run
        // killed between the two still reloads.
        s.raw(removeMine(UPGRADE_DROPIN), line("hearth_daemon_reload", UPGRADE_TIMER));
    }
    // apt's configuration as apt reads it (every file of apt.conf.d): a file overriding hearth's, or widening, narrowing or
    // switching off what is upgraded, stops here.
    s.raw(line("hearth_upgrades_config", ...configArgs(spec)));
    s.raw(line("hearth_upgrades_timers", ...APT_TIMERS));
    if (spec.rebootWindow) {
        files.push({ path: REBOOT_SCRIPT, content: renderRebootScript(spec.rebootWindow, mark), mode: 0o700 });
        s.install(files[files.length - 1]);
    } else {
        s.raw(removeMine(REBOOT_SCRIPT));
    }

    // The delete removes hearth's files only: apt's timers stay as they are (Debian enables them), the package stays
    // (DebianPackages keeps it), and apt's packaged configuration applies again.
    const d = new Script("remove hearth's unattended-upgrades configuration and the reboot window's script").owner(mark);
    d.raw("hearth_lock upgrades", removeMine(UPGRADES_CONF), removeMine(UPGRADE_DROPIN), line("hearth_daemon_reload", UPGRADE_TIMER), removeMine(REBOOT_SCRIPT));

    const check = [
        line("hearth_upgrades_check_config", ...configArgs(spec)),
        line("hearth_upgrades_check_timers", ...APT_TIMERS),
        ...(spec.upgradeTime ? [line("hearth_check_dropin", UPGRADE_TIMER, UPGRADE_DROPIN), line("hearth_upgrades_check_schedule", ...scheduleArgs(spec.upgradeTime))] : []),
        line("hearth_reboot_check_pending", spec.rebootWindow ? `${spec.rebootWindow.onCalendar} + ${spec.rebootWindow.durationMinutes} min` : "-"),
    ];
    const script = s.render();
    const deleteScript = d.render();
    return { files, script, deleteScript, check, hash: contentHash(script, deleteScript, ...files.map((f) => f.content)) };
}
