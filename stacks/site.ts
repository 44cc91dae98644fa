// The site program's body: validated config in, hearth components out. Everything is checked before the first resource.
import * as pulumi from "@pulumi/pulumi";
import { declaredAt, Dependable, Host, HostBaseline, HostDriftTimer, PostgresDb, rehearse, Rehearsed, SystemdService, ZfsDataset } from "../components";
import { SiteConfig } from "./schema";
import { ProblemCollector } from "./config/problems";
import { STACK_NAME } from "./config/wireguard";
import { buildHosts, hostAddresses, SecretSource } from "./build/hosts";
import { createServices, DependencySource, planServices } from "./build/services";
import { createPackages, planPackages } from "./build/packages";
import { createFiles } from "./build/files";
import { DEPENDENCY_SECTIONS, DependencyKind, DependencyRef, refTarget } from "./config/services";
import { creationOrder, dependsOnOptions, OrderedEntry } from "./build/order";
import { createStorage, databaseOutputs } from "./build/storage";
import { planDatasets } from "./build/datasets";
import { planDatabases } from "./build/databases";
import { createContainers, planContainers } from "./build/containers";
import { createLinks, RemoteLinks, wireguardOutputs } from "./build/wireguard";
import { AddressOwner, createZones, literalAddresses, planZones } from "./build/zones";

export interface SiteOutputs {
    /** Host (and container) name → `user@address:port`. */
    readonly hosts: Record<string, pulumi.Input<string>>;
    /** Service name → the unit hearth manages. */
    readonly services: Record<string, pulumi.Output<string>>;
    /** Dataset name → its mountpoint as the host reports it. */
    readonly datasets: Record<string, pulumi.Output<string>>;
    /** Database name → connection details (secret: they hold the password). */
    readonly databases: Record<string, Record<string, pulumi.Output<unknown>>>;
    /** Link name → public keys, endpoints and tunnel addresses: what the sites at the other end read. */
    readonly wireguard: Record<string, unknown>;
    /** Zone name → its name servers. */
    readonly zones: Record<string, pulumi.Output<string[]>>;
}

export interface SiteEnv {
    /** A secret config value, as a Pulumi secret. */
    readonly secret: SecretSource;
    /** Another site's exported WireGuard links (a StackReference in a real program). */
    readonly remoteSite?: (stack: string) => RemoteLinks;
}

/**
 * The fully qualified name of a referenced site: a bare `<stack>` is a sibling stack of this project in this stack's
 * organization (so `PULUMI_ORG` in CI, or the backend's own organization, carries over); `<project>/<stack>` gets
 * this organization; `<org>/<project>/<stack>` is taken as it is.
 */
export function qualifiedStack(stack: string, org: string = pulumi.getOrganization(), project: string = pulumi.getProject()): string {
    const parts = stack.split("/");
    if (parts.length === 3) return stack;
    if (parts.length === 2) return `${org}/${stack}`;
    return `${org}/${project}/${stack}`;
}

/** One StackReference per referenced site, reading its `wireguard` output. */
export function stackReferences(): (stack: string) => RemoteLinks {
    const refs = new Map<string, pulumi.StackReference>();
    return (stack) => {
        if (!STACK_NAME.test(stack)) throw new Error(`bad stack name ${stack}`);
        let ref = refs.get(stack);
        if (!ref) refs.set(stack, (ref = new pulumi.StackReference(`site-${stack.replace(/[^A-Za-z0-9_.-]/g, "-")}`, { name: qualifiedStack(stack) })));
        return ref.getOutput("wireguard") as RemoteLinks;
    };
}

/** What a reference names, in a rehearsal: a component on the service's host with nothing to order after yet. */
function standIn(ref: DependencyRef, host: Host): Dependable {
    const { kind, name } = refTarget(ref);
    return { dependency: { label: `${kind} '${name}'`, host, units: [], mounts: [], files: [], resources: [] } };
}

/** The sections whose entries declare resources. */
type Section = "containers" | "packages" | "files" | "services" | "datasets" | "databases" | "wireguard" | "zones";

/** A well-formed host key for the rehearsal's container placeholders (their real key exists once they boot). */
const REHEARSAL_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl rehearsal";

export function buildSite(site: SiteConfig, env: SiteEnv): SiteOutputs {
    const { secret } = env;
    const problems = new ProblemCollector();
    // An entry's key path, `hearth:services[2]`, found by its name (names are unique in a section).
    const where = (section: Section, name: string) => `hearth:${section}[${(site[section] ?? []).findIndex((x) => x.name === name)}]`;

    // Check everything first: a bad entry anywhere means nothing registers anywhere. The checks run as a rehearsal:
    // errors keep their argument path (it goes under the entry's key path), and then every constructor runs up to the
    // point where it would register (its argument checks and its claims on each host: two entries managing one unit,
    // dataset, database, interface, zone or machine are refused here, not after the first has registered).
    const plan = rehearse(() => {
        const hosts = buildHosts(site.hosts, secret, problems);
        const containers = planContainers(site.containers ?? [], hosts, secret, problems);
        const placeable = new Set([...hosts.keys(), ...containers.map((c) => c.name)]);
        const services = planServices(site.services ?? [], (n) => placeable.has(n));
        const packages = planPackages(site.packages ?? [], site.services ?? [], (n) => placeable.has(n), problems);
        const files = (site.files ?? []).filter((f) => placeable.has(f.host));
        const datasets = planDatasets(site.datasets ?? [], hosts, problems);
        const databases = planDatabases(site.databases ?? [], hosts, problems);
        const links = site.wireguard ?? [];
        const zones = planZones(site.zones ?? [], hosts, addressOwners(site, containers), problems);
        if (problems.problems.length === 0) {
            const each = <T>(section: Section, items: readonly T[], nameOf: (item: T) => string, declare: (item: T) => unknown) =>
                items.forEach((item) => {
                    const at = where(section, nameOf(item));
                    problems.run(at, () =>
                        declaredAt(at, () => {
                            try {
                                declare(item);
                            } catch (e) {
                                if (!(e instanceof Rehearsed)) throw e;
                            }
                        }),
                    );
                });
            const noRemote = () => pulumi.output(undefined) as RemoteLinks;
            each("containers", containers, (c) => c.name, (c) => createContainers([c]));
            // A service inside a container is claimed on the container's own host. That Host exists once the container
            // does; for the rehearsal each container gets a placeholder that only keys its claims (it never connects:
            // nothing is registered in a rehearsal).
            const inContainer = new Map(
                containers.map((c) => [c.name, new Host({ name: c.args.machine ?? c.name, address: c.ips[0], privateKey: c.args.ssh.privateKey, hostKey: pulumi.output(REHEARSAL_KEY) })]),
            );
            const rehearsalHost = (n: string) => hosts.get(n) ?? inContainer.get(n)!;
            each("datasets", datasets, ([n]) => n, (d) => createStorage([d], []));
            each("databases", databases, ([n]) => n, (d) => createStorage([], [d]));
            each("packages", packages, (p) => p.config.name, (p) => createPackages([p], rehearsalHost));
            each("files", files, (f) => f.name, (f) => createFiles([f], rehearsalHost, secret));
            // What a service names exists only once it registers: the rehearsal stands in for it on the service's host
            // (the cross-checks made sure the name is an entry there).
            each("services", services, (s) => s.name, (s) => createServices([s], rehearsalHost, secret, (ref) => standIn(ref, rehearsalHost(s.host))));
            each("wireguard", links, (l) => l.name, (l) => createLinks([l], hosts, secret, noRemote));
            each("zones", zones, (z) => z.config.name, (z) => createZones([z]));
            // A host's baseline after everything else on it: its firewall reads the listeners declared before it.
            site.hosts.forEach((h, i) => {
                if (!h.baseline) return;
                const at = `hearth:hosts[${i}].baseline`;
                problems.run(at, () =>
                    declaredAt(at, () => {
                        try {
                            new HostBaseline(`${h.name}-baseline`, { host: hosts.get(h.name)!, ...h.baseline });
                        } catch (e) {
                            if (!(e instanceof Rehearsed)) throw e;
                        }
                    }),
                );
            });
        }
        return { hosts, containers, services, packages, files, datasets, databases, links, zones };
    });
    problems.throwIfAny();
    const { hosts, containers, services, packages, files, datasets, databases, links, zones } = plan;

    // Each entry is declared at its key path, so the host's registries (claims, listeners) say where each thing came
    // from; what a service names is created before it.
    const declare = <T, R>(section: Section, items: readonly T[], nameOf: (item: T) => string, create: (items: T[]) => Map<string, R>): Map<string, R> =>
        new Map(items.flatMap((item) => [...declaredAt(where(section, nameOf(item)), () => create([item]))]));
    const createdContainers = declare("containers", containers, (c) => c.name, createContainers);
    const hostFor = (n: string): Host => hosts.get(n) ?? createdContainers.get(n)!.host;
    // Datasets, databases, packages, files and services in one order: each after whatever it names (a service's
    // after/requires/wants, any entry's dependsOn), otherwise in this section order. A `dependsOn` becomes Pulumi
    // `dependsOn` on the entry's component and on every remote command it registers.
    const created: Record<DependencyKind, Map<string, Dependable & pulumi.Resource>> = {
        dataset: new Map(),
        database: new Map(),
        packages: new Map(),
        file: new Map(),
        service: new Map(),
    };
    // The cross-checks made sure every reference names an entry, and the order below creates it first.
    const named = (ref: DependencyRef) => created[refTarget(ref).kind].get(refTarget(ref).name)!;
    const deps: DependencySource = named;
    const configOf = (kind: DependencyKind, name: string) => (site[DEPENDENCY_SECTIONS[kind]] ?? []).find((e) => e.name === name);
    const optsFor = (kind: DependencyKind, name: string) => dependsOnOptions((configOf(kind, name)?.dependsOn ?? []).map(named));
    const entry = <T>(kind: DependencyKind, name: string, refs: readonly DependencyRef[] | undefined, item: T): OrderedEntry<T> => ({ kind, name, refs: refs ?? [], item });
    const create: Record<DependencyKind, (name: string, item: any) => Dependable & pulumi.Resource> = {
        dataset: (n, d) => createStorage([d], [], () => optsFor("dataset", n)).datasets.get(n)!,
        database: (n, d) => createStorage([], [d], () => optsFor("database", n)).databases.get(n)!,
        packages: (n, p) => createPackages([p], hostFor, () => optsFor("packages", n)).get(n)!,
        file: (n, f) => createFiles([f], hostFor, secret, () => optsFor("file", n)).get(n)!,
        service: (n, s) => createServices([s], hostFor, secret, deps, () => optsFor("service", n)).get(n)!,
    };
    const order = creationOrder<unknown>([
        ...datasets.map(([n, a]) => entry("dataset", n, configOf("dataset", n)?.dependsOn, [n, a])),
        ...databases.map(([n, a]) => entry("database", n, configOf("database", n)?.dependsOn, [n, a])),
        ...packages.map((p) => entry("packages", p.config.name, p.config.dependsOn, p)),
        ...files.map((f) => entry("file", f.name, f.dependsOn, f)),
        // planServices put every service after the services it names.
        ...services.map((s) => entry("service", s.name, [...(s.after ?? []), ...(s.requires ?? []), ...(s.wants ?? []), ...(s.dependsOn ?? [])], s)),
    ]);
    for (const e of order) {
        declaredAt(where(DEPENDENCY_SECTIONS[e.kind], e.name), () => created[e.kind].set(e.name, create[e.kind](e.name, e.item)));
    }
    const storage = { datasets: created.dataset as Map<string, ZfsDataset>, databases: created.database as Map<string, PostgresDb> };
    const createdServices = created.service as Map<string, SystemdService>;
    const remote = env.remoteSite ?? stackReferences();
    const createdLinks = declare("wireguard", links, (l) => l.name, (l) => createLinks(l, hosts, secret, remote));
    const createdZones = declare("zones", zones, (z) => z.config.name, createZones);
    // Then each host's baseline (its firewall opens the listeners declared on the host so far), and last a host's drift
    // timer, which checks every converge declared on it before (its schedule was checked with the config).
    site.hosts.forEach((h, i) => {
        if (h.baseline) declaredAt(`hearth:hosts[${i}].baseline`, () => new HostBaseline(`${h.name}-baseline`, { host: hosts.get(h.name)!, ...h.baseline }));
    });
    site.hosts.forEach((h, i) => {
        if (h.driftTimer) declaredAt(`hearth:hosts[${i}].driftTimer`, () => new HostDriftTimer(`${h.name}-drift`, { host: hosts.get(h.name)!, ...h.driftTimer }));
    });

    return {
        hosts: { ...hostAddresses(site.hosts), ...Object.fromEntries([...createdContainers].map(([n, c]) => [n, `root@${c.address}:22`])) },
        services: Object.fromEntries([...createdServices].map(([name, svc]) => [name, svc.unitName])),
        datasets: Object.fromEntries([...storage.datasets].map(([name, d]) => [name, d.mountpoint])),
        databases: databaseOutputs(storage.databases),
        wireguard: wireguardOutputs(links, createdLinks),
        zones: Object.fromEntries([...createdZones].map(([name, z]) => [name, z.nameservers])),
    };
}

/** Services and containers that DNS records may name, with the addresses their records get. */
function addressOwners(site: SiteConfig, containers: ReturnType<typeof planContainers>): Map<string, AddressOwner> {
    const owners = new Map<string, AddressOwner>();
    const containerIps = new Map(containers.map((c) => [c.name, c.ips]));
    for (const c of site.containers ?? []) owners.set(c.name, { hostname: c.hostname ?? c.machine ?? c.name, addresses: containerIps.get(c.name) ?? [] });
    for (const s of site.services ?? []) {
        const host = site.hosts.find((h) => h.name === s.host);
        const addresses = host ? literalAddresses(host.address) : containerIps.get(s.host) ?? [];
        const problem = addresses.length === 0 ? `a service whose host has an IP address (host '${s.host}' is reached by name, so there is no address to publish)` : undefined;
        owners.set(s.name, { hostname: s.hostname, addresses, ...(problem ? { problem } : {}) });
    }
    return owners;
}
