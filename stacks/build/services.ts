// Services from the site config: SystemdServiceArgs with the host looked up, credentials read from secret config keys
// and `after`/`requires`/`wants` names turned into the components they name.
import { Dependable, Host, SystemdService, SystemdServiceArgs } from "../../components";
import { DependencyRef, refTarget, ServiceConfig } from "../config/services";
import { SecretSource } from "./hosts";

/** The component a reference names (the config's cross-checks made sure it exists on the service's host). */
export type DependencySource = (ref: DependencyRef) => Dependable;

export function serviceArgs(s: ServiceConfig, host: Host, secret: SecretSource, deps: DependencySource = noDependencies): SystemdServiceArgs {
    const { name: _name, host: _host, credentials, after, requires, wants, ...rest } = s;
    const ordering = {
        ...(after ? { after: after.map(deps) } : {}),
        ...(requires ? { requires: requires.map(deps) } : {}),
        ...(wants ? { wants: wants.map(deps) } : {}),
    };
    if (rest.dropIn !== undefined) return { ...rest, ...ordering, host };
    return {
        ...rest,
        ...ordering,
        host,
        ...(credentials ? { credentials: Object.fromEntries(Object.entries(credentials).map(([cred, c]) => [cred, secret(c)])) } : {}),
    };
}

function noDependencies(ref: DependencyRef): Dependable {
    throw new Error(`no component for ${JSON.stringify(ref)}`);
}

/**
 * The services whose host (a host of the site or one of its containers) exists, each after the services it names
 * (the cross-checks refused a cycle). The config schema already ran the component's own checks on every entry (it
 * is the component's schema), so nothing is resolved twice; a missing host was reported by the cross-checks.
 */
export function planServices(services: readonly ServiceConfig[], placeable: (name: string) => boolean): ServiceConfig[] {
    const byName = new Map(services.map((s) => [s.name, s]));
    const out: ServiceConfig[] = [];
    const done = new Set<string>();
    const visit = (s: ServiceConfig, path: Set<string>) => {
        if (done.has(s.name) || path.has(s.name)) return;
        path.add(s.name);
        for (const r of [...(s.after ?? []), ...(s.requires ?? []), ...(s.wants ?? [])]) {
            const t = refTarget(r);
            const dep = t.kind === "service" ? byName.get(t.name) : undefined;
            if (dep) visit(dep, path);
        }
        done.add(s.name);
        if (placeable(s.host)) out.push(s);
    };
    for (const s of services) visit(s, new Set());
    return out;
}

/** Creates the checked services (in `planServices` order), each on its real Host (a container's once it exists). */
export function createServices(services: readonly ServiceConfig[], hostFor: (name: string) => Host, secret: SecretSource, deps?: DependencySource): Map<string, SystemdService> {
    return new Map(services.map((s) => [s.name, new SystemdService(s.name, serviceArgs(s, hostFor(s.host), secret, deps))]));
}
