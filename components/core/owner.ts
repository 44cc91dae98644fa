// Ownership marks: the one resource that owns an object on a host. Pure: no @pulumi import.
//
// A mark is "<project>/<stack>/<type>/<name>" (each part percent-encoded outside a safe set, so a mark is always one
// shell word-safe line). It is written on the object itself (a unit file's "# hearth-owner:" line, a dataset's
// hearth:owner property, a database's comment, ...). A converge refuses an object marked by another resource
// (unless the resource lists that one among its aliases, or says adopt); a delete touches only objects marked by
// itself. Within one program, two resources claiming one object are refused before anything runs.
import { argName, ArgumentError } from "./errors";
import { formatIp, parseIp } from "./ip";

export interface OwnerMark {
    /** This resource's mark. */
    readonly id: string;
    /** Marks this resource also accepts as its own: its Pulumi aliases (a renamed resource keeps its objects). */
    readonly aliases: readonly string[];
    /** Take over an object whatever its mark says (rewriting the mark). */
    readonly adopt: boolean;
    /**
     * Who declared it, as Pulumi tells resources apart: the parent's type (for a child) and the resource's own type
     * and name. A mark leaves the parent out, so a child (`data-snapshots`, the snapshot timer of dataset `data`) and a
     * top-level resource of the same type and name would share one mark; claims refuse that on a host.
     */
    readonly declaredBy?: string;
}

function enc(part: string): string {
    return part.replace(/[^A-Za-z0-9._:@+-]/g, (c) => [...Buffer.from(c, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""));
}

/** The mark of a resource: project, stack, type token and resource name. */
export function ownerId(project: string, stack: string, type: string, name: string): string {
    return [project, stack, type, name].map(enc).join("/");
}

/** Who claimed (or noted) an object on a host. */
export interface Claim {
    readonly owner: string;
    /** Where the claim was declared, when the program said (a site's config key path and the argument). */
    readonly where?: string;
}

let claimed = new WeakMap<object, Map<string, Claim>>();
/** Objects resources use without owning them (a drop-in's unit, a file bound over a path): every user, first place each. */
let noted = new WeakMap<object, Map<string, Claim[]>>();
let listening = new WeakMap<object, RegisteredListener[]>();
/** The hosts that have listeners in the current registry, in the order they got their first. */
let listeningHostList: object[] = [];
/** Hosts whose registry a firewall has read: who read it (a listener declared after it would stay closed). */
let closedBy = new WeakMap<object, Claim>();
let claimContext: string | undefined;

/**
 * Runs `fn` with `where` as the place its claims are declared (a site config entry's key path, e.g.
 * `hearth:services[2]`): a later conflicting claim names it, so the error shows both places.
 */
export function declaredAt<T>(where: string, fn: () => T): T {
    const outer = claimContext;
    claimContext = where;
    try {
        return fn();
    } finally {
        claimContext = outer;
    }
}

/**
 * Runs `fn` (a parent declaring a child) with the child's claims placed at the parent's argument `under`: a conflict
 * then names `hearth:zones[0].backend.listenPorts[0]`, not the child's own argument at the parent's entry.
 */
export function declaredUnder<T>(under: readonly (string | number)[], fn: () => T): T {
    if (claimContext === undefined || under.length === 0) return fn();
    return declaredAt(placeOf(argName(under))!, fn);
}

function placeOf(arg: string): string | undefined {
    if (claimContext === undefined) return undefined;
    return arg === "" || arg === "args" ? claimContext : arg.startsWith("[") ? claimContext + arg : `${claimContext}.${arg}`;
}

/** Who made a claim, and where it was declared when the program said: for a message about a conflict. */
export function claimant(c: Claim): string {
    return `${decodeOwner(c.owner)}${c.where ? ` ('${c.where}')` : ""}`;
}

// ---- rehearsal -------------------------------------------------------------------------------------------------
// A site declares many resources; a claim refused at the tenth must not leave nine registered. The site program first
// rehearses every constructor up to the point where it would register (its argument checks and claims, against a
// scratch claim registry), and registers nothing unless every rehearsal passed.

/** Thrown at `rehearsalPoint()` while rehearsing: the constructor got as far as registering. */
export class Rehearsed extends Error {
    constructor() {
        super("rehearsed: nothing registered");
        this.name = "Rehearsed";
    }
}

let rehearsing = false;

/** Whether a rehearsal runs (constructors then throw ArgumentErrors as they are, and stop before registering). */
export function isRehearsing(): boolean {
    return rehearsing;
}

let rehearsalParent: string | undefined;

/** The parent a rehearsed child is declared under (it has no registered parent to name). */
export function rehearsedParent(): string | undefined {
    return rehearsalParent;
}

/**
 * While rehearsing, runs `declare` (a parent declaring its children, which stop at their own rehearsal point) with
 * `parent` as the name of the parent they would have, so their claims are rehearsed too. Does nothing otherwise.
 */
export function rehearseChildren(parent: string, declare: () => void, under: readonly (string | number)[] = []): void {
    if (!rehearsing) return;
    const outer = rehearsalParent;
    rehearsalParent = parent;
    try {
        declaredUnder(under, declare);
    } catch (e) {
        // A child's argument came from the parent's argument `under`: the error names it there.
        if (e instanceof ArgumentError) {
            const path = [...under, ...e.path];
            throw new ArgumentError(argName(path), e.value, e.allowed, path);
        }
        if (!(e instanceof Rehearsed)) throw e;
    } finally {
        rehearsalParent = outer;
    }
}

/** Called by every component constructor right before it registers: ends the constructor while rehearsing. */
export function rehearsalPoint(): void {
    if (rehearsing) throw new Rehearsed();
}

/**
 * Runs `fn` as a rehearsal: claims go to a scratch registry (thrown away after), constructors stop before registering.
 * Returns what `fn` returns.
 */
/**
 * Forgets every claim, note and listener: a new program run starts from nothing. The Pulumi CLI runs a program once per
 * process; a process that runs several (an automation API host reusing one Host object, a test harness) calls this
 * before each, or the second run would see the first one's claims.
 */
export function forgetClaims(): void {
    claimed = new WeakMap();
    noted = new WeakMap();
    listening = new WeakMap();
    listeningHostList = [];
    closedBy = new WeakMap();
}

export function rehearse<T>(fn: () => T): T {
    const real = claimed;
    const realNoted = noted;
    const realListening = listening;
    const realHosts = listeningHostList;
    const realClosed = closedBy;
    claimed = new WeakMap();
    noted = new WeakMap();
    listening = new WeakMap();
    listeningHostList = [];
    closedBy = new WeakMap();
    const outer = rehearsing;
    rehearsing = true;
    try {
        return fn();
    } finally {
        // A rehearsal inside another one ends with the outer still rehearsing.
        rehearsing = outer;
        claimed = real;
        noted = realNoted;
        listening = realListening;
        listeningHostList = realHosts;
        closedBy = realClosed;
    }
}

/**
 * Records that `owner` manages `object` (e.g. "unit web.service") on the host identified by `host` (the Host
 * instance), and refuses a second resource claiming the same object. `arg` names the argument that chose it.
 */
export function claim(host: object, object: string, owner: string, arg: string, value: unknown): void {
    let m = claimed.get(host);
    if (!m) claimed.set(host, (m = new Map()));
    const prev = m.get(object);
    if (prev !== undefined && prev.owner !== owner) {
        throw new ArgumentError(arg, value, `an object no other resource on this host manages (${object} is already managed by ${claimant(prev)})`);
    }
    if (prev === undefined) m.set(object, { owner, where: placeOf(arg) });
}

/** The claim on `object` on the host (who manages it, where it was declared), if a resource claimed it. */
export function claimedBy(host: object, object: string): Claim | undefined {
    return claimed.get(host)?.get(object);
}

/**
 * Records, refusing no one, that `owner` uses `object` on the host without owning it (a drop-in targets a unit, a
 * service binds a file over a path): several resources may note one object. A resource that would own the object
 * reads who did with `notedBy` and refuses it. `arg` names the argument that chose it.
 */
export function note(host: object, object: string, owner: string, arg: string): void {
    let m = noted.get(host);
    if (!m) noted.set(host, (m = new Map()));
    const list = m.get(object) ?? [];
    if (!list.some((c) => c.owner === owner)) m.set(object, [...list, { owner, where: placeOf(arg) }]);
}

/** The first resource other than `except` that noted `object` on the host, if any. */
export function notedBy(host: object, object: string, except: string): Claim | undefined {
    return noted.get(host)?.get(object)?.find((c) => c.owner !== except);
}


// ---- listeners ---------------------------------------------------------------------------------------------------
// The per-host registry of every socket a program declares: services' ports and sockets, PostgreSQL, pgbouncer, Knot,
// WireGuard. Two listeners on one protocol and port whose addresses overlap are refused before anything runs; the
// firewall, the gateway and the plan read the same registry.

/** One socket something on a host listens on. */
export interface Listener {
    readonly protocol: "tcp" | "udp";
    readonly port: number;
    /** The address it binds; undefined for every address of the host. */
    readonly address?: string;
    /**
     * Who listens: several resources may declare one listener (every PostgresDb on a server declares the server's
     * port), so a conflict is two different listeners, not two resources. E.g. `postgresql@15-main`, `unit web.service`.
     */
    readonly listener: string;
    /** Who may reach it: `loopback`, `local` (declared networks), `overlay` (WireGuard), `internet`, or `none`. */
    readonly scope: "none" | "loopback" | "local" | "overlay" | "internet";
}

export interface RegisteredListener extends Listener {
    /** The mark of the resource that declared it (the first one, when several declare one listener). */
    readonly owner: string;
    readonly arg: string;
    readonly where?: string;
}

/**
 * An address as the registry compares it: undefined for every address (`*`, `0.0.0.0`, `::`: a dual-stack wildcard
 * overlaps both families), an IPv4-mapped IPv6 address as its IPv4 address, any other IP in its canonical text
 * (RFC 5952), brackets dropped; anything else (a name) lowercased.
 */
export function listenerAddress(address: string | undefined): string | undefined {
    if (address === undefined) return undefined;
    const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
    if (bare === "" || bare === "*") return undefined;
    const ip = parseIp(bare);
    if (!ip) return bare.toLowerCase();
    if (ip.family === 6 && ip.value >> 32n === 0xffffn) return formatIp(4, ip.value & 0xffffffffn);
    if (ip.value === 0n) return undefined;
    return ip.text;
}

function overlaps(a?: string, b?: string): boolean {
    return a === undefined || b === undefined || a === b;
}

/**
 * Registers that `owner` declares `l` on the host identified by `host`, refusing a different listener on the same
 * protocol and port with an overlapping address (naming where the first was declared). `arg` names the argument.
 */
export function claimListener(host: object, declared: Listener, owner: string, arg: string, value: unknown): void {
    // Loopback and unreachable listeners need no rule (lo is accepted): only a reachable one comes too late.
    const closed = declared.scope === "none" || declared.scope === "loopback" ? undefined : closedBy.get(host);
    if (closed) {
        throw new ArgumentError(
            arg,
            value,
            `a listener declared before the host's firewall (${claimant(closed)}): its ruleset is made from the listeners declared before it, so ${declared.protocol}/${declared.port} would stay closed; declare the firewall (or the HostBaseline) last on the host`,
        );
    }
    const address = listenerAddress(declared.address);
    const { address: _a, ...rest } = declared;
    const l: Listener = { ...rest, ...(address === undefined ? {} : { address }) };
    let list = listening.get(host);
    if (!list) {
        listening.set(host, (list = []));
        listeningHostList.push(host);
    }
    for (const p of list) {
        if (p.protocol !== l.protocol || p.port !== l.port || !overlaps(p.address, l.address)) continue;
        if (p.listener === l.listener) {
            if (p.address === l.address) return;
            continue;
        }
        const on = `${l.protocol}/${l.port}${p.address ? ` on ${p.address}` : ""}`;
        throw new ArgumentError(arg, value, `a port no other listener on this host uses (${on} is already used by ${p.listener}, declared by ${claimant(p)})`);
    }
    list.push({ ...l, owner, arg, where: placeOf(arg) });
}

/**
 * Marks the host's listener registry as read by `owner`'s firewall: a listener claimed on the host after this is refused,
 * naming the firewall (its ruleset would leave it closed). `arg` names the firewall's argument for the message's place.
 */
export function closeListeners(host: object, owner: string, arg: string): void {
    if (!closedBy.has(host)) closedBy.set(host, { owner, where: placeOf(arg) });
}

/** Every listener declared on the host so far (in the current registry: the rehearsal's while one runs). */
export function listenersOf(host: object): readonly RegisteredListener[] {
    return listening.get(host) ?? [];
}

/** Every host with listeners in the current registry, with them (the plan prints them; the firewall will read them). */
export function listeningHosts(): [object, readonly RegisteredListener[]][] {
    return listeningHostList.map((h) => [h, listenersOf(h)]);
}

/** A mark shown to a person: the resource's name decoded. */
export function decodeOwner(id: string): string {
    try {
        return decodeURIComponent(id);
    } catch {
        return id;
    }
}
