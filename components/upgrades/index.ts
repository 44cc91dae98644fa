// HostUpgrades (hearth:host:Upgrades): unattended security upgrades and a declared reboot window. It installs
// unattended-upgrades (a DebianPackages child), writes hearth's apt configuration (Debian's security archive and the
// declared origins, Automatic-Reboot false: hearth owns reboots), keeps apt's packaged timers enabled, optionally moves
// the upgrade to a declared time, and with `rebootWindow` adds a hardened timer job that reboots only when a reboot is
// required and now is inside the window.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { rehearsalPoint, rehearseChildren } from "../core/owner";
import { parseArgs } from "../core/schema";
import { Host, remoteScript } from "../host";
import { childAliases, claimOnHost, fileObject, ownerMark } from "../ownership";
import { DebianPackages, DebianPackagesArgs, resolvePackagesArgs } from "../packages";
import { frameStdin } from "../shell";
import { resolveServiceArgs, SystemdService, SystemdServiceArgs } from "../systemd";
import { UPGRADES_TYPE } from "../tokens";
import { check } from "../validate";
import { RebootWindow, REBOOT_SCRIPT, REBOOT_UNIT, renderUpgrades, UPGRADE_DROPIN, UPGRADES_CONF, UPGRADES_PACKAGE, UPGRADES_SHUTDOWN_UNIT, upgradesSpec, UpgradesSpec } from "./render";
import { HostUpgradesArgs, HostUpgradesArgsSchema } from "./schema";

export {
    CALENDAR_ALLOWED,
    HostUpgradesArgs,
    HostUpgradesArgsSchema,
    hostUpgradesShape,
    isOriginPattern,
    isRepeatingCalendar,
    ORIGIN_ALLOWED,
    DEBIAN_SECURITY_ORIGIN,
    MIN_WINDOW_MINUTES,
    MAX_WINDOW_MINUTES,
} from "./schema";
export {
    APT_EMPTY_LISTS,
    APT_SETTINGS,
    configArgs,
    APT_TIMERS,
    REBOOT_SCRIPT,
    REBOOT_UNIT,
    RebootWindow,
    RenderedUpgrades,
    renderAptConf,
    renderRebootScript,
    renderUpgradeDropIn,
    renderUpgrades,
    UPGRADE_DROPIN,
    UPGRADE_TIMER,
    UpgradeTime,
    UPGRADES_CONF,
    UpgradesSpec,
    upgradesSpec,
} from "./render";

/** What a HostUpgrades records as its inputs (state, the plan, policy props). */
export interface HostUpgradesProps extends UpgradesSpec {
    readonly host: string;
}

/**
 * The reboot window's job: a oneshot as root on the window's calendar (Persistent: a run missed while the host was off
 * comes late, and its script then finds itself outside the window and does nothing). Its sandbox keeps it to reading
 * the host and asking for a reboot: no network, ProtectSystem=strict with nothing writable, and CAP_SYS_BOOT.
 */
export function rebootServiceArgs(host: Host, w: RebootWindow): SystemdServiceArgs {
    return {
        host,
        unitName: REBOOT_UNIT,
        description: `hearth reboot window (${w.onCalendar}, open ${w.durationMinutes} minutes): reboots only when a reboot is required`,
        execStart: ["/bin/bash", "--noprofile", "--norc", REBOOT_SCRIPT],
        runAsRoot: { reason: "only root may ask systemd and logind to reboot the host; the script only reads the host and runs systemctl reboot" },
        network: "none",
        timer: { onCalendar: w.onCalendar, persistent: true, randomizedDelaySec: 0 },
        loosen: {
            capabilities: {
                caps: ["CAP_SYS_BOOT"],
                reason: "systemctl reboot asks logind, which grants a reboot to a root caller holding CAP_SYS_BOOT (without polkit it refuses any other, and systemctl then gives up)",
            },
        },
    };
}

/** The DebianPackages child: unattended-upgrades, its shutdown unit kept (it holds a shutdown back while an upgrade runs). */
export function upgradesPackagesArgs(host: Host): DebianPackagesArgs {
    return { host, packages: [UPGRADES_PACKAGE], keepUnits: [UPGRADES_SHUTDOWN_UNIT] };
}

export class HostUpgrades extends pulumi.ComponentResource {
    /** The DebianPackages child that installs unattended-upgrades. */
    readonly packages: DebianPackages;
    /** The command that writes hearth's configuration and keeps apt's timers enabled. */
    readonly command: command.remote.Command;
    /** The command whose delete removes hearth's files. */
    readonly lifecycle: command.remote.Command;
    /** The reboot window's timer job (`hearth-reboot-window.service` and `.timer`), when a window is declared. */
    readonly rebootService?: SystemdService;

    constructor(name: string, args: HostUpgradesArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const a = check(() => parseArgs(HostUpgradesArgsSchema, args));
        const spec = upgradesSpec(a);
        const host = a.host;
        const pkgArgs = upgradesPackagesArgs(host);
        check(() => resolvePackagesArgs(pkgArgs));
        const svcArgs = spec.rebootWindow ? rebootServiceArgs(host, spec.rebootWindow) : undefined;
        if (svcArgs) check(() => resolveServiceArgs(`${name}-reboot`, svcArgs));
        const mark = ownerMark(UPGRADES_TYPE, name, opts, false);
        // One configuration of upgrades per host, and each file one writer.
        claimOnHost(host, "unattended upgrades", mark, "host", host.name);
        for (const p of [UPGRADES_CONF, UPGRADE_DROPIN, REBOOT_SCRIPT]) claimOnHost(host, fileObject(p), mark, "host", host.name);
        // One rehearsal per child: a rehearsed child stops at its own rehearsal point, so one callback would rehearse
        // only the first.
        rehearseChildren(`${UPGRADES_TYPE} '${name}'`, () => new DebianPackages(`${name}-packages`, pkgArgs));
        if (svcArgs) rehearseChildren(`${UPGRADES_TYPE} '${name}'`, () => new SystemdService(`${name}-reboot`, svcArgs), ["rebootWindow"]);
        rehearsalPoint();
        super(UPGRADES_TYPE, name, { host: host.name, ...spec } satisfies HostUpgradesProps, opts);

        const pkgAliases = childAliases(opts, "-packages");
        this.packages = new DebianPackages(`${name}-packages`, pkgArgs, { parent: this, ...(pkgAliases.length ? { aliases: pkgAliases } : {}) });
        const rendered = renderUpgrades(spec, mark);
        const cmds = remoteScript(
            `${name}-upgrades`,
            {
                host,
                script: rendered.script,
                deleteScript: rendered.deleteScript,
                stdin: frameStdin(rendered.files.map((f) => f.content)),
                hash: rendered.hash,
                check: rendered.check,
            },
            { parent: this, dependsOn: [this.packages.command] },
        );
        this.command = cmds.converge;
        this.lifecycle = cmds.lifecycle!;
        if (svcArgs) {
            const svcAliases = childAliases(opts, "-reboot");
            this.rebootService = new SystemdService(`${name}-reboot`, svcArgs, { parent: this, dependsOn: [cmds.converge], ...(svcAliases.length ? { aliases: svcAliases } : {}) });
        }
        this.registerOutputs({});
    }
}
