// HostTuning (hearth:host:Tuning): a host's kernel settings (sysctls, checked and set live, persisted for boot), its time
// servers (systemd-timesyncd), its hostname and a block of /etc/hosts. One per host.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { rehearsalPoint } from "../core/owner";
import { parseArgs } from "../core/schema";
import { remoteScript } from "../host";
import { claimOnHost, fileObject, ownerMark } from "../ownership";
import { frameStdin } from "../shell";
import { TUNING_TYPE } from "../tokens";
import { check } from "../validate";
import { renderTuning, SYSCTL_CONF, TIMESYNC_DROPIN, TuningSpec } from "./render";
import { HostTuningArgs, HostTuningArgsSchema, sysctlText } from "./schema";

export { HostTuningArgs, HostTuningArgsSchema, tuningShape, KNOWN_SYSCTLS, CONGESTION_CONTROLS, QDISCS, SYSCTL_KEY_ALLOWED, PLAIN_VALUE_ALLOWED, HOSTNAME_ALLOWED, SYSCTL_REFUSED, SYSCTL_ONE_WAY, SYSCTL_LOOSENINGS, sysctlText, sysctlRefused, sysctlTie, sysctlLoosening } from "./schema";
export { renderTuning, renderSysctlConf, renderTimesyncDropin, renderHostsBlock, SYSCTL_CONF, TIMESYNC_DROPIN, TuningSpec, HostsEntry } from "./render";

/**
 * A documented example, not a default: BBR congestion control with the fq queueing discipline it was designed with
 * (the seed design's TCP items). Spread it into `sysctls`; a kernel without BBR stops the converge before anything is
 * written, naming what it offers.
 */
export const BBR_FQ: Readonly<Record<string, string>> = {
    "net.core.default_qdisc": "fq",
    "net.ipv4.tcp_congestion_control": "bbr",
};

/** Arguments resolved into the renderer's input (every value as the kernel prints it back). */
export function resolveTuningArgs(args: HostTuningArgs): { host: import("../host").Host; spec: TuningSpec } {
    const a = parseArgs(HostTuningArgsSchema, args);
    const sysctls = Object.entries(a.sysctls ?? {})
        .map(([k, v]) => [k, sysctlText(k, v).text!] as const)
        .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return {
        host: a.host,
        spec: {
            sysctls,
            ...(a.loosen && Object.keys(a.loosen).length ? { loosen: a.loosen } : {}),
            ...(a.timeSync ? { timeSync: { servers: a.timeSync.servers, ...(a.timeSync.fallbackServers !== undefined ? { fallbackServers: a.timeSync.fallbackServers } : {}) } } : {}),
            ...(a.hostname !== undefined ? { hostname: a.hostname } : {}),
            hosts: (a.hosts ?? []).map((e) => ({ address: e.address, names: e.names })),
        },
    };
}

export class HostTuning extends pulumi.ComponentResource {
    /** The converge command; depend on it to run after the host is tuned. */
    readonly command: command.remote.Command;
    /** The command whose delete puts back what hearth changed. */
    readonly lifecycle: command.remote.Command;

    constructor(name: string, args: HostTuningArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const { host, spec } = check(() => resolveTuningArgs(args));
        const mark = ownerMark(TUNING_TYPE, name, opts, false);
        claimOnHost(host, "host tuning", mark, "host", host.name);
        claimOnHost(host, fileObject(SYSCTL_CONF), mark, "sysctls", SYSCTL_CONF);
        claimOnHost(host, fileObject(TIMESYNC_DROPIN), mark, "timeSync", TIMESYNC_DROPIN);
        for (const [k, v] of spec.sysctls) claimOnHost(host, `sysctl ${k}`, mark, `sysctls["${k}"]`, v);
        if (spec.hostname !== undefined) claimOnHost(host, "hostname", mark, "hostname", spec.hostname);
        if (spec.hosts.length) claimOnHost(host, "hosts block", mark, "hosts", spec.hosts.length);
        rehearsalPoint();
        super(TUNING_TYPE, name, { host: host.name, sysctls: Object.fromEntries(spec.sysctls), loosen: spec.loosen ?? {}, timeSync: spec.timeSync ?? null, hostname: spec.hostname ?? null, hosts: spec.hosts }, opts);
        const r = renderTuning(spec, mark);
        const cmds = remoteScript(
            `${name}-tuning`,
            { host, script: r.script, deleteScript: r.deleteScript, ...(r.frames.length ? { stdin: frameStdin(r.frames) } : {}), hash: r.hash, check: r.check },
            { parent: this },
        );
        this.command = cmds.converge;
        this.lifecycle = cmds.lifecycle!;
        this.registerOutputs({});
    }
}
