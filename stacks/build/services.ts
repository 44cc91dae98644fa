// Services from the site config: SystemdServiceArgs with the host looked up, credentials read from secret config keys
// (an htpasswd credential hashed from them), and `after`/`requires`/`wants` names turned into the components they name.
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError, Dependable, Host, htpasswdLine, SystemdService, SystemdServiceArgs } from "../../components";
import { DependencyRef, HtpasswdCredential, refTarget, ServiceConfig } from "../config/services";
import { SecretSource } from "./hosts";

/** The component a reference names (the config's cross-checks made sure it exists on the service's host). */
export type DependencySource = (ref: DependencyRef) => Dependable;

/**
 * A credential's value: a secret config key's value, or an htpasswd file of stable lines hashed from secret keys (a
 * secret Output: the passwords and the lines never leave it).
 */
export function credentialValue(c: string | HtpasswdCredential, secret: SecretSource, context: string): pulumi.Output<string> {
    if (typeof c === "string") return secret(c);
    const line = (u: { user: string; password: string }) =>
        secret(u.password).apply((pw) => {
            try {
                return htpasswdLine(u.user, pw, context);
            } catch (e) {
                // The value is never shown: only the key that holds it and what a password may be.
                if (e instanceof ArgumentError) throw new Error(`the secret config key '${u.password}' (htpasswd user '${u.user}') holds a value that is not allowed (not shown): expected ${e.allowed}`);
                throw e;
            }
        });
    return pulumi.secret(pulumi.all(c.htpasswd.map(line)).apply((lines) => `${lines.join("\n")}\n`));
}

/** What a site's htpasswd lines are salted with: the same password gives another line in another site or service. */
export function htpasswdContext(service: string, credential: string): string {
    return `${pulumi.getProject()}/${pulumi.getStack()}/${service}/${credential}`;
}

export function serviceArgs(s: ServiceConfig, host: Host, secret: SecretSource, deps: DependencySource = noDependencies): SystemdServiceArgs {
    const { name: _name, host: _host, dependsOn: _d, credentials, after, requires, wants, ...rest } = s;
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
        ...(credentials ? { credentials: Object.fromEntries(Object.entries(credentials).map(([cred, c]) => [cred, credentialValue(c, secret, htpasswdContext(s.name, cred))])) } : {}),
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
export function createServices(
    services: readonly ServiceConfig[],
    hostFor: (name: string) => Host,
    secret: SecretSource,
    deps?: DependencySource,
    optsFor: (name: string) => pulumi.ComponentResourceOptions = () => ({}),
): Map<string, SystemdService> {
    return new Map(services.map((s) => [s.name, new SystemdService(s.name, serviceArgs(s, hostFor(s.host), secret, deps), optsFor(s.name))]));
}
