// Ownership marks: the one resource that owns an object on a host. Pure: no @pulumi import.
//
// A mark is "<project>/<stack>/<type>/<name>" (each part percent-encoded outside a safe set, so a mark is always one
// shell word-safe line). It is written on the object itself (a unit file's "# hearth-owner:" line, a dataset's
// hearth:owner property, a database's comment, ...). A converge refuses an object marked by another resource
// (unless the resource lists that one among its aliases, or says adopt); a delete touches only objects marked by
// itself. Within one program, two resources claiming one object are refused before anything runs.
import { ArgumentError } from "./errors";

export interface OwnerMark {
    /** This resource's mark. */
    readonly id: string;
    /** Marks this resource also accepts as its own: its Pulumi aliases (a renamed resource keeps its objects). */
    readonly aliases: readonly string[];
    /** Take over an object whatever its mark says (rewriting the mark). */
    readonly adopt: boolean;
}

function enc(part: string): string {
    return part.replace(/[^A-Za-z0-9._:@+-]/g, (c) => [...Buffer.from(c, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""));
}

/** The mark of a resource: project, stack, type token and resource name. */
export function ownerId(project: string, stack: string, type: string, name: string): string {
    return [project, stack, type, name].map(enc).join("/");
}

const claimed = new WeakMap<object, Map<string, string>>();

/**
 * Records that `owner` manages `object` (e.g. "unit web.service") on the host identified by `host` (the Host
 * instance), and refuses a second resource claiming the same object. `arg` names the argument that chose it.
 */
export function claim(host: object, object: string, owner: string, arg: string, value: unknown): void {
    let m = claimed.get(host);
    if (!m) claimed.set(host, (m = new Map()));
    const prev = m.get(object);
    if (prev !== undefined && prev !== owner) {
        throw new ArgumentError(arg, value, `an object no other resource on this host manages (${object} is already managed by ${decodeOwner(prev)})`);
    }
    m.set(object, owner);
}

/** A mark shown to a person: the resource's name decoded. */
export function decodeOwner(id: string): string {
    try {
        return decodeURIComponent(id);
    } catch {
        return id;
    }
}
