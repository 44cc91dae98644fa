// Cross-checks of the site config: names that must be unique, references that must point at something, secrets named by key.
import { DEFAULT_SSH_KEY } from "./hosts";
import { DEPENDENCY_SECTIONS, DEPENDS_ON_SECTIONS, DependencyKind, refTarget } from "./services";

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
    const hosts = site.hosts ?? [];
    const containers = site.containers ?? [];
    for (const [section, what] of [["hosts", "host"], ["packages", "packages entry"], ["files", "file"], ["services", "service"], ["datasets", "dataset"], ["databases", "database"], ["containers", "container"], ["wireguard", "link"], ["zones", "zone"]]) {
        unique(ctx, section, site[section], what);
    }
    // Services may run on a host or inside a container of the site, so the two share one name space.
    containers.forEach((c: any, i: number) => {
        if (hosts.some((h: any) => h.name === c.name)) ctx.addIssue({ path: ["containers", i, "name"], input: c.name, message: "a name no host of hearth:hosts has (services name hosts and containers alike)" });
    });
    for (const section of ["datasets", "databases", "containers"]) {
        (site[section] ?? []).forEach((x: any, i: number) => refersTo(ctx, [section, i, "host"], x.host, hosts, "hosts"));
    }
    for (const section of ["services", "packages", "files"]) {
        (site[section] ?? []).forEach((x: any, i: number) => refersTo(ctx, [section, i, "host"], x.host, [...hosts, ...containers], "hosts or hearth:containers"));
    }
    dependencyRefs(ctx, site);
    (site.wireguard ?? []).forEach((l: any, i: number) => {
        [["hub"], ...l.peers.map((_: unknown, j: number) => ["peers", j])].forEach((at: (string | number)[]) => {
            // Which of host, stack or publicKey a side has, and its name, are the link schema's rules (config/wireguard.ts).
            const side = at.length === 1 ? l.hub : l.peers[at[1] as number];
            refersTo(ctx, ["wireguard", i, ...at, "host"], side.host, hosts, "hosts");
        });
    });
    const zones = site.zones ?? [];
    zones.forEach((z: any, i: number) => {
        if (z.backend.kind === "host") refersTo(ctx, ["zones", i, "backend", "host"], z.backend.host, hosts, "hosts");
        (z.records ?? []).forEach((r: any, j: number) => refersTo(ctx, ["zones", i, "records", j, "service"], r.service, [...(site.services ?? []), ...containers], "services or hearth:containers"));
        (z.delegations ?? []).forEach((d: any, j: number) => {
            if (d.child === undefined) return;
            const hostZones = zones.filter((c: any, k: number) => k !== i && c.backend.kind === "host");
            refersTo(ctx, ["zones", i, "delegations", j, "child"], d.child, hostZones, "zones with a host backend (other than this one)");
        });
    });
    return issues;
}

/** A reference's node in the creation graph: `service 'radicale'`. */
const node = (kind: string, name: string) => `${kind} '${name}'`;
const KIND_OF: Record<string, DependencyKind> = Object.fromEntries(Object.entries(DEPENDENCY_SECTIONS).map(([k, s]) => [s, k as DependencyKind]));

/**
 * A service's `after`/`requires`/`wants` name entries on its own host (a unit on another machine means nothing to its
 * systemd); `dependsOn` (any section that has it) names entries on any host, not itself. What names what may not form
 * a cycle: each entry is created after those it names.
 */
function dependencyRefs(ctx: Ctx, site: any): void {
    const services: any[] = site.services ?? [];
    services.forEach((s, i) => {
        for (const arg of ["after", "requires", "wants"]) {
            (s[arg] ?? []).forEach((r: any, j: number) => {
                const { kind, name } = refTarget(r);
                const section = DEPENDENCY_SECTIONS[kind];
                const entries: any[] = site[section] ?? [];
                const there = entries.filter((e) => e.host === s.host && !(section === "services" && e.name === s.name));
                if (there.some((e) => e.name === name)) return;
                const list = there.length ? there.map((e) => JSON.stringify(e.name)).join(", ") : "none there";
                const elsewhere = entries.find((e) => e.name === name);
                const why = section === "services" && name === s.name ? " (not the service itself)" : elsewhere ? ` ('${name}' is on host '${elsewhere.host}')` : "";
                ctx.addIssue({ path: ["services", i, arg, j, kind], input: name, message: `the name of an entry of hearth:${section} on host '${s.host}' (${list})${why}` });
            });
        }
    });
    for (const from of DEPENDS_ON_SECTIONS) {
        (site[from] ?? []).forEach((e: any, i: number) =>
            (e.dependsOn ?? []).forEach((r: any, j: number) => {
                const { kind, name } = refTarget(r);
                const section = DEPENDENCY_SECTIONS[kind];
                const others = (site[section] ?? []).filter((x: any) => !(section === from && x.name === e.name));
                if (others.some((x: any) => x.name === name)) return;
                const list = others.length ? others.map((x: any) => JSON.stringify(x.name)).join(", ") : "none defined";
                const why = section === from && name === e.name ? " (not the entry itself)" : "";
                ctx.addIssue({ path: [from, i, "dependsOn", j, kind], input: name, message: `the name of an entry of hearth:${section} (${list})${why}` });
            }),
        );
    }
    // A cycle of entries naming each other: none could be created first. Each edge is reported where it is written.
    const edges = new Map<string, { to: string; path: (string | number)[]; name: string }[]>();
    const exists = new Set<string>();
    for (const section of DEPENDS_ON_SECTIONS) {
        (site[section] ?? []).forEach((e: any, i: number) => {
            const from = node(KIND_OF[section], e.name);
            exists.add(from);
            const out = edges.get(from) ?? [];
            edges.set(from, out);
            for (const arg of section === "services" ? ["after", "requires", "wants", "dependsOn"] : ["dependsOn"]) {
                (e[arg] ?? []).forEach((r: any, j: number) => {
                    const t = refTarget(r);
                    out.push({ to: node(t.kind, t.name), path: [section, i, arg, j, t.kind], name: t.name });
                });
            }
        });
    }
    const state = new Map<string, "open" | "done">();
    const visit = (from: string, trail: string[]): void => {
        if (state.get(from) === "done") return;
        state.set(from, "open");
        for (const edge of edges.get(from) ?? []) {
            if (!exists.has(edge.to) || edge.to === from) continue;
            if (state.get(edge.to) === "open") {
                const cycle = [...trail.slice(trail.indexOf(edge.to)), from, edge.to].join(" -> ");
                const what = edge.path[edge.path.length - 1] === "packages" ? "packages entry" : String(edge.path[edge.path.length - 1]);
                ctx.addIssue({ path: edge.path, input: edge.name, message: `a ${what} that does not depend on ${from} in turn (${cycle} is a cycle)` });
            } else visit(edge.to, [...trail, from]);
        }
        state.set(from, "done");
    };
    for (const from of edges.keys()) visit(from, []);
}

/** Where a site names a secret config key: the key path, and whether the name is the default (not written in the config). */
export interface SecretRef {
    /** The key path that names it (the first one), e.g. `hearth:services[0].credentials.token`. */
    readonly where: string;
    /** The name is hearth's default (a host's `sshPrivateKey`), not a value someone typed. */
    readonly byDefault: boolean;
}

/** `hearth:services[0].credentials["a b"]` from its keys (stacks/schema.ts: keyPath, the same format). */
function pathText(namespace: string, path: readonly (string | number)[]): string {
    let out = `${namespace}:${String(path[0])}`;
    for (const p of path.slice(1)) {
        if (typeof p === "number") out += `[${p}]`;
        else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) out += `.${p}`;
        else out += `[${JSON.stringify(p)}]`;
    }
    return out;
}

/** Secret config keys the site names, each with where it is named (the first place). */
export function secretRefs(sections: Record<string, any>, namespace = "hearth"): Map<string, SecretRef> {
    const refs = new Map<string, SecretRef>();
    const add = (key: unknown, path: (string | number)[], byDefault = false) => {
        if (typeof key === "string" && !refs.has(key)) refs.set(key, { where: `${pathText(namespace, path)}${byDefault ? " by default" : ""}`, byDefault });
    };
    const hosts = Array.isArray(sections.hosts) ? sections.hosts : [];
    hosts.forEach((h: any, i: number) => {
        if (!h || typeof h !== "object") return;
        if (h.sshKey !== undefined) add(h.sshKey, ["hosts", i, "sshKey"]);
        else add(DEFAULT_SSH_KEY, ["hosts", i], true);
        if (h.proxy && typeof h.proxy === "object") {
            if (h.proxy.sshKey !== undefined) add(h.proxy.sshKey, ["hosts", i, "proxy", "sshKey"]);
            else add(DEFAULT_SSH_KEY, ["hosts", i, "proxy"], true);
        }
    });
    const services = Array.isArray(sections.services) ? sections.services : [];
    services.forEach((s: any, i: number) => {
        const creds = s && typeof s === "object" && s.credentials && typeof s.credentials === "object" ? s.credentials : {};
        for (const [name, key] of Object.entries(creds)) {
            add(key, ["services", i, "credentials", name]);
            const users = key && typeof key === "object" && Array.isArray((key as any).htpasswd) ? (key as any).htpasswd : [];
            users.forEach((u: any, j: number) => add(u?.password, ["services", i, "credentials", name, "htpasswd", j, "password"]));
        }
    });
    const files = Array.isArray(sections.files) ? sections.files : [];
    files.forEach((f: any, i: number) => add(f?.secretContent, ["files", i, "secretContent"]));
    const containers = Array.isArray(sections.containers) ? sections.containers : [];
    containers.forEach((c: any, i: number) => add(c?.ssh?.privateKey, ["containers", i, "ssh", "privateKey"]));
    const links = Array.isArray(sections.wireguard) ? sections.wireguard : [];
    links.forEach((l: any, i: number) => add(l?.presharedKey, ["wireguard", i, "presharedKey"]));
    return refs;
}

/** The command that sets a secret config key: the key as the program reads it, `<namespace>:<name>`; the CLI prompts for the value. */
export const setSecretCommand = (namespace: string, key: string) => `\`pulumi config set --secret ${namespace}:${key}\` (it prompts for the value)`;

/**
 * Every secret config key the site names must be set, as a secret. A name someone typed where a key name belongs is
 * never repeated in a problem about a key that is not set: it may be the secret itself, pasted in the name's place
 * (`credentials: { token: ghp_… }`); the problem names the place instead. A key that is set is a key of the config,
 * so its name is shown; so is a default name (`sshPrivateKey`). A name that is not a key name at all (`isKeyName`
 * false) is the field's own problem (stacks/config/fields.ts: secretKey, which does not show it either).
 */
export function secretKeyProblems(
    refs: ReadonlyMap<string, SecretRef>,
    raw: { readonly values: Readonly<Record<string, unknown>>; readonly secretKeys?: ReadonlySet<string> },
    namespace: string,
    isKeyName: (key: string) => boolean,
): { path: string; message: string }[] {
    const problems: { path: string; message: string }[] = [];
    for (const [key, ref] of refs) {
        if (!isKeyName(key)) continue;
        if (!(key in raw.values)) {
            if (ref.byDefault) {
                problems.push({ path: `${namespace}:${key}`, message: `is missing: expected a secret (named by ${ref.where}), set with ${setSecretCommand(namespace, key)}` });
            } else {
                problems.push({
                    path: ref.where,
                    message: `names a secret config key that is not set (the name given there is not repeated: it may be the secret itself, pasted in the name's place): expected the name of a key set with ${setSecretCommand(namespace, "<name>")}`,
                });
            }
        } else if (raw.secretKeys && !raw.secretKeys.has(key)) {
            problems.push({ path: `${namespace}:${key}`, message: `is set in plain text (value not shown): expected a secret, set with ${setSecretCommand(namespace, key)}` });
        }
    }
    return problems;
}
