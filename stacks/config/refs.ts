// Cross-checks of the site config: names that must be unique, references that must point at something, secrets named by key.
import { DEFAULT_SSH_KEY } from "./hosts";

/** A cross-check failure: where (path under the namespace), the value found, and what is allowed. */
export interface CrossIssue {
    readonly path: (string | number)[];
    readonly input: unknown;
    readonly message: string;
}

type Ctx = { addIssue(issue: CrossIssue): void };

interface Named {
    readonly name: string;
}

/** Reports every entry after the first that reuses a name. */
export function unique(ctx: Ctx, section: string, items: readonly Named[] | undefined, what: string): void {
    const seen = new Map<string, number>();
    (items ?? []).forEach((item, i) => {
        const first = seen.get(item.name);
        if (first !== undefined) {
            ctx.addIssue({ path: [section, i, "name"], input: item.name, message: `a ${what} name not used before (${section}[${first}] has it)` });
        } else {
            seen.set(item.name, i);
        }
    });
}

/** Reports a reference that names nothing in `targets`. */
export function refersTo(ctx: Ctx, path: (string | number)[], value: string | undefined, targets: readonly Named[] | undefined, section: string): void {
    if (value === undefined) return;
    const names = (targets ?? []).map((t) => t.name);
    if (!names.includes(value)) {
        const list = names.length ? names.map((n) => JSON.stringify(n)).join(", ") : "none defined";
        ctx.addIssue({ path, input: value, message: `the name of an entry in hearth:${section} (${list})` });
    }
}

/**
 * Cross-checks across sections. Runs only once every section has the right shape: a reference to a host whose own
 * entry is malformed would only repeat that entry's error.
 */
export function crossCheck(site: any): CrossIssue[] {
    const issues: CrossIssue[] = [];
    const ctx: Ctx = { addIssue: (i) => issues.push(i) };
    unique(ctx, "hosts", site.hosts, "host");
    unique(ctx, "services", site.services, "service");
    (site.services ?? []).forEach((s: any, i: number) => refersTo(ctx, ["services", i, "host"], s.host, site.hosts, "hosts"));
    return issues;
}

/** Secret config keys the site names, each with the key path that names it (the first one). */
export function secretRefs(sections: Record<string, any>): Map<string, string> {
    const refs = new Map<string, string>();
    const add = (key: unknown, where: string) => {
        if (typeof key === "string" && !refs.has(key)) refs.set(key, where);
    };
    const hosts = Array.isArray(sections.hosts) ? sections.hosts : [];
    hosts.forEach((h: any, i: number) => {
        if (!h || typeof h !== "object") return;
        add(h.sshKey ?? DEFAULT_SSH_KEY, h.sshKey ? `hearth:hosts[${i}].sshKey` : `hearth:hosts[${i}] by default`);
        if (h.proxy && typeof h.proxy === "object") add(h.proxy.sshKey ?? DEFAULT_SSH_KEY, h.proxy.sshKey ? `hearth:hosts[${i}].proxy.sshKey` : `hearth:hosts[${i}].proxy by default`);
    });
    const services = Array.isArray(sections.services) ? sections.services : [];
    services.forEach((s: any, i: number) => {
        const creds = s && typeof s === "object" && s.credentials && typeof s.credentials === "object" ? s.credentials : {};
        for (const [name, key] of Object.entries(creds)) add(key, `hearth:services[${i}].credentials.${name}`);
    });
    return refs;
}
