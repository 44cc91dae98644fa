// Services from the site config: SystemdServiceArgs with the host looked up and credentials read from secret config keys.
import { Host, SystemdService, SystemdServiceArgs } from "../../components";
import { ServiceConfig } from "../config/services";
import { ProblemCollector } from "../config/problems";
import { SecretSource } from "./hosts";

export function serviceArgs(s: ServiceConfig, host: Host, secret: SecretSource): SystemdServiceArgs {
    const { name: _name, host: _host, credentials, ...rest } = s;
    if (rest.dropIn !== undefined) return { ...rest, host };
    return {
        ...rest,
        host,
        ...(credentials ? { credentials: Object.fromEntries(Object.entries(credentials).map(([cred, key]) => [cred, secret(key)])) } : {}),
    };
}

/**
 * The services whose host exists. The config schema already ran the component's own checks on every entry (it is the
 * component's schema), so nothing is resolved twice; a missing host was reported by its own entry or the cross-checks.
 * `hostFor` gives a host of the site, or a stand-in for a container's own Host.
 */
export function planServices(services: readonly ServiceConfig[], hostFor: (name: string) => Host | undefined, _secret: SecretSource, _problems: ProblemCollector): ServiceConfig[] {
    return services.filter((s) => hostFor(s.host) !== undefined);
}

/** Creates the checked services, each on its real Host (a container's once the container exists). */
export function createServices(services: readonly ServiceConfig[], hostFor: (name: string) => Host, secret: SecretSource): Map<string, SystemdService> {
    return new Map(services.map((s) => [s.name, new SystemdService(s.name, serviceArgs(s, hostFor(s.host), secret))]));
}
