// Hosts from the site config: plain Host objects (no resources), checked before anything is registered.
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components";
import { DEFAULT_SSH_KEY, HostConfig } from "../config/hosts";
import { ProblemCollector } from "../config/problems";

export type SecretSource = (key: string) => pulumi.Output<string>;

export function buildHosts(hosts: readonly HostConfig[], secret: SecretSource, problems: ProblemCollector): Map<string, Host> {
    const out = new Map<string, Host>();
    hosts.forEach((h, i) => {
        const host = problems.run(
            `hearth:hosts[${i}]`,
            () =>
                new Host({
                    name: h.name,
                    address: h.address,
                    port: h.port,
                    user: h.user,
                    hostKey: h.hostKey,
                    privateKey: secret(h.sshKey ?? DEFAULT_SSH_KEY),
                    sudo: h.sudo,
                    facts: h.facts,
                    reapply: h.reapply,
                    proxy: h.proxy && {
                        address: h.proxy.address,
                        port: h.proxy.port,
                        user: h.proxy.user,
                        hostKey: h.proxy.hostKey,
                        privateKey: secret(h.proxy.sshKey ?? DEFAULT_SSH_KEY),
                    },
                }),
            "host.",
        );
        if (host) out.set(h.name, host);
    });
    return out;
}

/** How each host is reached (`user@address:port`), as a stack output and for the plan's per-host grouping. */
export function hostAddresses(hosts: readonly HostConfig[]): Record<string, string> {
    return Object.fromEntries(hosts.map((h) => [h.name, `${h.user ?? "root"}@${h.address}:${h.port ?? 22}`]));
}
