// HostFirewall (hearth:host:Firewall): the host's one nftables table, `table inet hearth`, derived from the listener
// registry (every listener declared on the Host before it: declare it last), applied with commit-confirm: the converge
// makes the new ruleset live under a guard that restores the previous table unless `<name>-confirm`, a second command
// the engine dials afresh after the converge, confirms it in time.
import { createHash } from "crypto";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { closeListeners, listenersOf, rehearsalPoint } from "../core/owner";
import { parseArgs } from "../core/schema";
import { parseCidr } from "../core/ip";
import { Host, outlasting, remoteScript } from "../host";
import { claimOnHost, fileObject, ownerMark, unitObject } from "../ownership";
import { frameStdin } from "../shell";
import { FIREWALL_TYPE } from "../tokens";
import { check, fail } from "../validate";
import { BOOT_PATH, BOOT_UNIT, DESIRED_PATH, FirewallSpec, listenerSource, renderFirewall, TABLE_OBJECT, wireguardInterfaces } from "./render";
import { DEFAULT_CONFIRM_SECONDS, HostFirewallArgs, HostFirewallArgsSchema, parsePorts } from "./schema";

export { HostFirewallArgs, HostFirewallArgsSchema, firewallShape, allowRuleSchema, DEFAULT_CONFIRM_SECONDS, MIN_CONFIRM_SECONDS, MAX_CONFIRM_SECONDS } from "./schema";
export { AllowRule, FirewallSpec, firewallPlan, renderRuleset, renderBootUnit, renderFirewall, wireguardInterfaces, listenerSource, BOOT_PATH, BOOT_UNIT, DESIRED_PATH, GUARD } from "./render";

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

/** How long one dial of the confirm may take (seconds): the host's default. */

/**
 * The firewall a HostFirewall with `args` renders, as the plan prints it: checks the arguments against the host's
 * listener registry as it is now (throws an ArgumentError naming the argument otherwise).
 */
export function resolveFirewall(args: HostFirewallArgs): { spec: FirewallSpec; host: Host; adopt: boolean } {
    const a = parseArgs(HostFirewallArgsSchema, args);
    const host = a.host as Host;
    const sshPort = a.sshPort ?? host.port;
    if (sshPort !== host.port) {
        fail("sshPort", sshPort, `the port hearth connects to this host on (${host.port}, the host's port): a ruleset that opens SSH on another port cuts hearth's own connection`);
    }
    // A copy: the registry's list grows as the program declares more; the ruleset is what was declared until now.
    const listeners = [...listenersOf(host)];
    const local = a.networks?.local ?? [];
    const overlay = a.networks?.overlay ?? [];
    const overlayInterfaces = [...new Set([...wireguardInterfaces(listeners), ...(a.overlayInterfaces ?? [])])].sort();
    for (const l of listeners) {
        if (l.scope === "local" && local.length === 0) {
            fail("networks.local", [], `at least one network: ${listenerSource(l)} is open to the local networks, and none is declared`);
        }
        if (l.scope === "overlay" && overlay.length === 0 && overlayInterfaces.length === 0) {
            fail("networks.overlay", [], `at least one network (or an overlayInterfaces entry, or a WireguardLink on this host declared before the firewall): ${listenerSource(l)} is open to the overlay, and none is declared`);
        }
        const ip = l.address !== undefined ? parseCidr(`${l.address}/${l.address.includes(":") ? 128 : 32}`) : undefined;
        if (ip && l.scope === "local" && !local.some((n) => parseCidr(n)!.family === ip.family)) {
            fail("networks.local", local, `a network of the family of ${l.address}: ${listenerSource(l)} is bound to it, and no local network of that family is declared`);
        }
    }
    (a.allow ?? []).forEach((r, i) => {
        const seen: [number, number][] = [];
        r.ports.forEach((p, j) => {
            const [lo, hi] = parsePorts(p)!;
            const o = seen.findIndex(([l2, h2]) => lo <= h2 && l2 <= hi);
            if (o >= 0) fail(`allow[${i}].ports[${j}]`, p, `ports that overlap no other entry of the rule (entry ${o} covers some of them)`);
            seen.push([lo, hi]);
        });
    });
    const spec: FirewallSpec = {
        hostName: host.name,
        sshPort,
        adminNetworks: a.adminNetworks,
        local,
        overlay,
        overlayInterfaces,
        allow: a.allow ?? [],
        confirmSeconds: a.confirmSeconds ?? DEFAULT_CONFIRM_SECONDS,
        listeners,
    };
    return { spec, host, adopt: a.adopt ?? false };
}

export class HostFirewall extends pulumi.ComponentResource {
    /** The ruleset file (what `nft -f` loads), as the plan prints it. */
    readonly ruleset: string;
    /** SHA-256 of the ruleset file: what the drift check expects live and at boot. */
    readonly rulesetHash: string;
    /** The resolved firewall (the listeners it came from included): `firewallPlan(spec)` prints it. */
    readonly spec: FirewallSpec;
    /** Stages the ruleset and applies it under the guard. */
    readonly command: command.remote.Command;
    /** The second, fresh SSH connection that confirms the applied ruleset (or fails saying it was rolled back). */
    readonly confirm: command.remote.Command;

    constructor(name: string, args: HostFirewallArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const { spec, host, adopt } = check(() => resolveFirewall(args));
        const mark = ownerMark(FIREWALL_TYPE, name, opts, adopt);
        claimOnHost(host, TABLE_OBJECT, mark, "host", host.name);
        for (const p of [DESIRED_PATH, BOOT_PATH]) claimOnHost(host, fileObject(p), mark, "host", host.name);
        claimOnHost(host, unitObject(BOOT_UNIT), mark, "host", host.name);
        // Its ruleset is made from the listeners declared so far: one declared after it is refused where it is declared.
        closeListeners(host, mark.id, "host");
        rehearsalPoint();
        super(FIREWALL_TYPE, name, { host: host.name, adminNetworks: spec.adminNetworks, local: spec.local, overlay: spec.overlay, overlayInterfaces: spec.overlayInterfaces, allow: spec.allow, sshPort: spec.sshPort, confirmSeconds: spec.confirmSeconds }, opts);
        const r = renderFirewall(spec, mark, sha256);
        this.ruleset = r.ruleset;
        this.rulesetHash = r.rulesetHash;
        this.spec = spec;
        const cmds = remoteScript(
            `${name}-ruleset`,
            { host, script: r.script, deleteScript: r.deleteScript, stdin: frameStdin([r.ruleset, r.unit]), hash: r.hash, check: r.check },
            { parent: this },
        );
        this.command = cmds.converge;
        // The confirm runs whenever the converge does: the same content hash and reapply counter in its text. Its dials
        // outlast the rollback window, so a ruleset that drops SSH is met by a dial that succeeds once it is rolled back.
        const reapply = host.reapplyCount(name);
        const confirmText = host.wrap([`# hearth-content: ${r.hash}`, ...(reapply > 0 ? [`# hearth-reapply: ${reapply}`] : []), r.confirmScript].join("\n"));
        this.confirm = new command.remote.Command(
            `${name}-confirm`,
            {
                connection: outlasting(host.connection, spec.confirmSeconds),
                create: confirmText,
                update: confirmText,
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [cmds.converge] },
        );
        this.registerOutputs({});
    }
}
