// Services from the site config: SystemdServiceArgs with the host looked up and credentials read from secret config keys.
import { Host, SystemdService, SystemdServiceArgs } from "../../components";
import { ServiceConfig } from "../config/services";
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
 * The services whose host (a host of the site or one of its containers) exists. The config schema already ran the
 * component's own checks on every entry (it is the component's schema), so nothing is resolved twice; a missing host
 * was reported by its own entry or the cross-checks.
 */
export function planServices(services: readonly ServiceConfig[], placeable: (name: string) => boolean): ServiceConfig[] {
    return services.filter((s) => placeable(s.host));
}

/** Creates the checked services, each on its real Host (a container's once the container exists). */
export function createServices(services: readonly ServiceConfig[], hostFor: (name: string) => Host, secret: SecretSource): Map<string, SystemdService> {
    return new Map(services.map((s) => [s.name, new SystemdService(s.name, serviceArgs(s, hostFor(s.host), secret))]));
}
