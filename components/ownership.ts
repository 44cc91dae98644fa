// Wiring for ownership marks: a component's mark from the running program's project and stack and its options.
import * as pulumi from "@pulumi/pulumi";
import { claim, claimant, claimedBy, claimListener, decodeOwner, Listener, note, notedBy, ownerId, OwnerMark, rehearsedParent } from "./core/owner";
import { ArgumentError } from "./core/errors";
import { check } from "./validate";

export { OwnerMark, Listener } from "./core/owner";

/** The mark of a component resource named `name` of type `type`, accepting the marks of its aliases. */
export function ownerMark(type: string, name: string, opts: pulumi.ComponentResourceOptions | undefined, adopt: boolean | undefined): OwnerMark {
    const project = pulumi.getProject();
    const stack = pulumi.getStack();
    const aliases: string[] = [];
    for (const a of opts?.aliases ?? []) {
        if (typeof a === "string") {
            // urn:pulumi:<stack>::<project>::<qualified type>::<name>
            const m = /^urn:pulumi:([^:]*)::([^:]*)::([^:]*(?::[^:]+)*?)::(.*)$/.exec(a);
            if (m) aliases.push(ownerId(m[2], m[1], m[3].split("$").pop()!, m[4]));
        } else if (a && typeof a === "object" && !pulumi.Output.isInstance(a)) {
            const al = a as pulumi.Alias;
            const str = (v: unknown, d: string) => (typeof v === "string" ? v : d);
            aliases.push(ownerId(str(al.project, project), str(al.stack, stack), str(al.type, type), str(al.name, name)));
        }
    }
    const parent = opts?.parent ? `${pulumi.resourceType(opts.parent)} '${pulumi.resourceName(opts.parent)}'` : rehearsedParent() ?? "the program";
    return { id: ownerId(project, stack, type, name), aliases: aliases.filter((x, i, all) => all.indexOf(x) === i), adopt: adopt ?? false, declaredBy: `${type} '${name}' of ${parent}` };
}

/** Plan-time: refuses a second resource on the same host claiming `object` (names the argument that chose it). */
export function claimOnHost(host: object, object: string, mark: OwnerMark, arg: string, value: unknown): void {
    check(() => {
        // One resource per mark on a host: a child and a top-level resource of the same type and name would share it,
        // and each would take the other's objects for its own leftovers.
        if (mark.declaredBy) claimMark(host, mark);
        claim(host, object, mark.id, arg, value);
    });
}

// The names objects are claimed by on a host, for the components that meet on one (a unit and a drop-in over it, a
// file and a service's bind over its path).

/** A systemd unit a resource writes whole (`web.service`, `systemd-nspawn@box.service`). */
export const unitObject = (unit: string) => `systemd unit ${unit}`;
/** A drop-in file, by its path. */
export const dropInObject = (path: string) => `systemd drop-in ${path}`;
/** What a drop-in over `unit` notes: a unit with one is no other resource's to write whole. */
export const dropInTargetObject = (unit: string) => `systemd drop-in target ${unit}`;
/** A file a HostFile writes on the host. */
export const fileObject = (path: string) => `file ${path}`;
/** What a service binding a config file over `path` notes: a file written there would be hidden from it. */
export const boundFileObject = (path: string) => `bound file ${path}`;

/**
 * Plan-time: `mark` uses `used` without owning it (a drop-in targets a unit; a service binds a file over a path), which
 * would change or hide `owned`, an object another resource may claim for itself: refused when another resource has
 * claimed `owned` (`allowed` says what is expected, given who claimed it), and noted otherwise, so that a resource
 * claiming `owned` later is refused (`claimUnlessUsedOnHost`). Several resources may use one object.
 */
export function useOnHost(host: object, used: string, owned: string, mark: OwnerMark, arg: string, value: unknown, allowed: (by: string) => string): void {
    check(() => {
        const c = claimedBy(host, owned);
        if (c !== undefined && c.owner !== mark.id) throw new ArgumentError(arg, value, allowed(claimant(c)));
        note(host, used, mark.id, arg);
    });
}

/**
 * Plan-time: claims `object` as `claimOnHost` does, and refuses it when another resource uses it without owning it
 * (`useOnHost` noted `used`): `allowed` says what is expected, given who uses it.
 */
export function claimUnlessUsedOnHost(host: object, object: string, used: string, mark: OwnerMark, arg: string, value: unknown, allowed: (by: string) => string): void {
    check(() => {
        const c = notedBy(host, used, mark.id);
        if (c !== undefined) throw new ArgumentError(arg, value, allowed(claimant(c)));
    });
    claimOnHost(host, object, mark, arg, value);
}

/**
 * Plan-time: registers a socket the resource listens on, in the host's one listener registry (core/owner.ts), refusing
 * a different listener on the same protocol and port (names the argument that chose it).
 */
export function listenOnHost(host: object, listener: Listener, mark: OwnerMark, arg: string, value: unknown): void {
    check(() => claimListener(host, listener, mark.id, arg, value));
}

function claimMark(host: object, mark: OwnerMark): void {
    const object = `owner mark ${mark.id}`;
    const c = claimedBy(host, object);
    if (c !== undefined && c.owner !== mark.declaredBy) {
        throw new ArgumentError("name", decodeOwner(mark.id), `a resource name whose mark no other resource on this host has (${mark.declaredBy} and ${claimant(c)} would both mark their objects ${decodeOwner(mark.id)}): rename one`);
    }
    claim(host, object, mark.declaredBy!, "name", mark.id);
}

/**
 * The aliases of a child resource named `<parent name><suffix>`: a renamed parent's child was named after the old
 * name, so its mark follows the parent's name aliases (Pulumi carries the child's identity over by itself; the mark
 * on the host must follow it too).
 */
export function childAliases(opts: pulumi.ComponentResourceOptions | undefined, suffix: string): pulumi.Alias[] {
    const out: pulumi.Alias[] = [];
    for (const a of opts?.aliases ?? []) {
        if (a && typeof a === "object" && !pulumi.Output.isInstance(a) && typeof (a as pulumi.Alias).name === "string") {
            out.push({ name: `${(a as pulumi.Alias).name}${suffix}` });
        }
    }
    return out;
}
