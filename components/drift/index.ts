// HostDriftTimer (hearth:check:DriftTimer): the host runs its own drift checks on a schedule and reports to the journal.
// The check is the one `npm run check` runs over SSH, derived from every converge registered on the Host before the
// timer (declare it last); a drift makes its unit fail, which alerting (OnFailure=) can hook.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { isRehearsing, rehearsalPoint, rehearseChildren } from "../core/owner";
import { Host, hostConverges, remoteScript } from "../host";
import { childAliases, claimOnHost, fileObject, ownerMark } from "../ownership";
import { contentHash, frameStdin } from "../shell";
import { resolveServiceArgs, SystemdService, SystemdServiceArgs } from "../systemd";
import { DRIFT_TIMER_TYPE } from "../tokens";
import { check, fail } from "../validate";
import { parseArgs } from "../core/schema";
import { ConvergeText, DRIFT_CHECK_PATH, DRIFT_TIMEOUT_SEC, DRIFT_UNIT, renderDriftCheck, renderDriftInstall } from "./render";
import { HostDriftTimerArgs, HostDriftTimerArgsSchema } from "./schema";

export { HostDriftTimerArgs, HostDriftTimerArgsSchema, driftTimerShape, driftTimerScheduleSchema } from "./schema";
export { DRIFT_CHECK_PATH, DRIFT_UNIT, renderDriftCheck, driftChecks, ConvergeText } from "./render";

export interface DriftSchedule {
    readonly onCalendar: string;
    readonly randomizedDelaySec: number;
}

/**
 * The unit that runs the check: as root (it reads what every converge installed), with the kernel keeping it to
 * reading: ProtectSystem=strict and no writable path, a private /tmp, no new privileges (which narrows mistakes; it is no
 * boundary against the script: root can still ask PID 1 over D-Bus, and the script only reads). It shares the host's network
 * namespace (`wg show` and `ip link` read the host's interfaces) with IP limited to local addresses.
 */
export function driftServiceArgs(host: Host, schedule: DriftSchedule): SystemdServiceArgs {
    return {
        host,
        unitName: DRIFT_UNIT,
        description: "hearth drift check of this host (read-only; reports to the journal, fails on drift)",
        // A check that hangs (a file swapped for a FIFO, a server that never answers) is killed and fails the unit, so a
        // oneshot never stays activating and the next runs still start.
        execStart: ["/usr/bin/timeout", "--kill-after=30", String(DRIFT_TIMEOUT_SEC), "/bin/bash", "--noprofile", "--norc", DRIFT_CHECK_PATH],
        runAsRoot: { reason: "the check reads what every converge installed as root (root-only directories, credentials, recorded digests); its script only reads; ProtectSystem=strict keeps /usr, /etc and /var read-only to it" },
        network: "local",
        timer: { onCalendar: schedule.onCalendar, persistent: true, randomizedDelaySec: schedule.randomizedDelaySec },
        loosen: {
            capabilities: {
                caps: ["CAP_DAC_READ_SEARCH", "CAP_NET_ADMIN", "CAP_SETGID", "CAP_SETUID"],
                reason: "reading files other owners hold (DAC_READ_SEARCH), wg show (NET_ADMIN: WireGuard answers only an admin), and dropping to a tree's owner with setpriv or runuser before reading below it (SETUID, SETGID)",
            },
            syscallGroups: { groups: ["@setuid"], reason: "setpriv and runuser change to the owner of a container tree or of PostgreSQL before the check reads below it" },
            addressFamilies: { families: ["AF_NETLINK"], reason: "ip link and wg show read the host's interfaces over netlink" },
            ...(host.facts.zfs
                ? {
                      privateDevices: { reason: "zfs get and zfs list reach the kernel module through /dev/zfs" },
                      procSubset: { reason: "zfs reads /proc/mounts, which ProcSubset=pid hides" },
                  }
                : {}),
        },
    };
}

export class HostDriftTimer extends pulumi.ComponentResource {
    /** Where the check script is installed on the host. */
    readonly path: string;
    /** The command that installs the check script. */
    readonly command: command.remote.Command;
    /** The timer job that runs it (`hearth-drift-check.service` and `.timer`). */
    readonly service: SystemdService;
    /** The names of the converges the installed check covers, in order. */
    readonly covers: readonly string[];

    constructor(name: string, args: HostDriftTimerArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const a = check(() => parseArgs(HostDriftTimerArgsSchema, args));
        const schedule: DriftSchedule = { onCalendar: a.onCalendar ?? "daily", randomizedDelaySec: a.randomizedDelaySec ?? 0 };
        const svcArgs = driftServiceArgs(a.host, schedule);
        check(() => resolveServiceArgs(`${name}-timer`, svcArgs));
        // What the check covers: every converge registered on this Host so far (a rehearsal registers none).
        const converges = hostConverges(a.host);
        if (converges.length === 0 && !isRehearsing()) {
            fail("host", a.host.name, "a host with components already declared on it: declare HostDriftTimer after the host's other components (it checks the converges registered before it)");
        }
        const mark = ownerMark(DRIFT_TIMER_TYPE, name, opts, false);
        claimOnHost(a.host, "drift timer", mark, "host", a.host.name);
        claimOnHost(a.host, fileObject(DRIFT_CHECK_PATH), mark, "host", a.host.name);
        const timerAliases = childAliases(opts, "-timer");
        rehearseChildren(`${DRIFT_TIMER_TYPE} '${name}'`, () => new SystemdService(`${name}-timer`, svcArgs));
        rehearsalPoint();
        super(DRIFT_TIMER_TYPE, name, { host: a.host.name, onCalendar: schedule.onCalendar, randomizedDelaySec: schedule.randomizedDelaySec, covers: converges.map((c) => c.name) }, opts);
        this.path = DRIFT_CHECK_PATH;
        this.covers = converges.map((c) => c.name);

        // The script resolves with the creates and stdins it is derived from; it is secret when any of them is.
        const hostName = a.host.name;
        const script = pulumi
            .all(converges.map((c) => pulumi.all([pulumi.output(c.create), pulumi.output(c.stdin)])))
            .apply((cs) => renderDriftCheck(hostName, cs.map(([create, stdin], i): ConvergeText => ({ name: converges[i].name, create, ...(stdin !== undefined ? { stdin } : {}) })), mark));
        const rendered = renderDriftInstall(mark);
        const cmds = remoteScript(
            `${name}-install`,
            { host: a.host, script: rendered.script, deleteScript: rendered.deleteScript, stdin: script.apply((s) => frameStdin([s])), hash: rendered.hash, uses: script.apply((s) => contentHash(s)) },
            { parent: this },
        );
        this.command = cmds.converge;
        this.service = new SystemdService(`${name}-timer`, svcArgs, { parent: this, dependsOn: [cmds.converge], ...(timerAliases.length ? { aliases: timerAliases } : {}) });
        this.registerOutputs({});
    }
}
