// Services from the site config: SystemdServiceArgs with the host looked up and credentials read from secret config keys.
import { Host } from "../../components/host";
import { resolveServiceArgs, SystemdService, SystemdServiceArgs } from "../../components/systemd";
import { ServiceConfig } from "../config/services";
import { ProblemCollector } from "../config/remap";
import { SecretSource } from "./hosts";

export function serviceArgs(s: ServiceConfig, host: Host, secret: SecretSource): SystemdServiceArgs {
    const { name: _name, host: _host, credentials, ...rest } = s;
    return {
        ...rest,
        host,
        ...(credentials ? { credentials: Object.fromEntries(Object.entries(credentials).map(([cred, key]) => [cred, secret(key)])) } : {}),
    };
}

/** Resolves every service first (collecting errors), so a bad entry anywhere registers nothing anywhere. */
export function planServices(services: readonly ServiceConfig[], hosts: Map<string, Host>, secret: SecretSource, problems: ProblemCollector): [string, SystemdServiceArgs][] {
    const planned: [string, SystemdServiceArgs][] = [];
    services.forEach((s, i) => {
        const host = hosts.get(s.host);
        if (!host) return; // the host's own entry already reported why it is missing
        const args = serviceArgs(s, host, secret);
        if (problems.run(`hearth:services[${i}]`, () => resolveServiceArgs(s.name, args))) planned.push([s.name, args]);
    });
    return planned;
}

export function createServices(planned: readonly [string, SystemdServiceArgs][]): Map<string, SystemdService> {
    return new Map(planned.map(([name, args]) => [name, new SystemdService(name, args)]));
}
