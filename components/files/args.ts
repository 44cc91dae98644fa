// HostFile arguments resolved into a FileSpec (the renderer's input) before any resource exists.
import type * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";
import { parseArgs } from "../core/schema";
import { FileSpec } from "./render";
import { HostFileArgs, HostFileArgsSchema } from "./schema";

export { HostFileArgs };

export interface ResolvedHostFile {
    readonly host: Host;
    readonly spec: FileSpec;
    /** As given: a plain string (checked) or an Output (checked when it resolves, by the component). */
    readonly content: pulumi.Input<string>;
}

/** Checks every argument and resolves defaults; throws an ArgumentError naming the first bad one. */
export function resolveHostFileArgs(args: HostFileArgs): ResolvedHostFile {
    const a = parseArgs(HostFileArgsSchema, args);
    const secret = a.secret ?? false;
    const spec: FileSpec = {
        path: a.path,
        mode: (a.mode ?? (secret ? "0600" : "0644")).padStart(4, "0"),
        owner: a.owner ?? "root",
        group: a.group ?? "root",
        createParents: a.createParents ?? false,
        adopt: a.adopt ?? false,
        secret,
    };
    return { host: a.host, spec, content: a.content as pulumi.Input<string> };
}
