// Services from the site config: SystemdServiceArgs with the host looked up and credentials read from secret config keys.
import { Host, resolveServiceArgs, SystemdService, SystemdServiceArgs } from "../../components";
import { ServiceConfig } from "../config/services";
import { ProblemCollector } from "../config/problems";
import { SecretSource } from "./hosts";

export function serviceArgs(s: ServiceConfig, host: Host, secret: SecretSource): SystemdServiceArgs {
    const { name: _name, host: _host, credentials, ...rest } = s;
    return {
        ...rest,
        host,
        ...(credentials ? { credentials: Object.fromEntries(Object.entries(credentials).map(([cred, key]) => [cred, secret(key)])) } : {}),
    };
}

/**
 * Resolves every service first (collecting errors), so a bad entry anywhere registers nothing anywhere. `hostFor`
 * gives a host of the site, or a stand-in for a container's own Host (which exists only once the container does).
 */
export function planServices(services: readonly ServiceConfig[], hostFor: (name: string) => Host | undefined, secret: SecretSource, problems: ProblemCollector): ServiceConfig[] {
    return services.filter((s, i) => {
        const host = hostFor(s.host);
        // A missing host was reported by its own entry (or by the cross-checks).
        return host !== undefined && problems.run(`hearth:services[${i}]`, () => resolveServiceArgs(s.name, serviceArgs(s, host, secret))) !== undefined;
    });
}

/** Creates the checked services, each on its real Host (a container's once the container exists). */
export function createServices(services: readonly ServiceConfig[], hostFor: (name: string) => Host, secret: SecretSource): Map<string, SystemdService> {
    return new Map(services.map((s) => [s.name, new SystemdService(s.name, serviceArgs(s, hostFor(s.host), secret))]));
}
