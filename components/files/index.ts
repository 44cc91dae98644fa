// HostFile: a configuration file that belongs to no single service (a package's conf.d snippet, /etc/default/<pkg>),
// written where the user says inside an allow-list of configuration trees (core/rules.ts: configPathProblem).
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { rehearsalPoint } from "../core/owner";
import { remoteScript } from "../host";
import { boundFileObject, claimUnlessUsedOnHost, fileObject, ownerMark } from "../ownership";
import type { ServiceDependency } from "../refs";
import { frameStdin } from "../shell";
import { FILE_TYPE } from "../tokens";
import { check, fail } from "../validate";
import { HostFileArgs, ResolvedHostFile, resolveHostFileArgs } from "./args";
import { FileSpec, renderHostFile } from "./render";
import { CONTENT_ALLOWED, isFileContent } from "./schema";

/** How a secret content (or any content of a `secret: true` file) is shown in an error: never its text. */
export const SECRET_SHOWN = "<secret>";

export { HostFileArgs, ResolvedHostFile, resolveHostFileArgs };
export { FileSpec, RenderedHostFile, renderHostFile, fileKey, ORIG_SUFFIX } from "./render";
export {
    HostFileArgsSchema,
    hostFileShape,
    checkHostFile,
    configPath,
    fileContent,
    isFileContent,
    MAX_CONTENT_BYTES,
    CONTENT_ALLOWED,
    MODE_ALLOWED,
    MODE_SECRET_ALLOWED,
    MODE_SPECIAL_ALLOWED,
    MODE_EXEC_ALLOWED,
    MODE_WRITABLE_ALLOWED,
} from "./schema";

/** What a HostFile records as its inputs (state, policy props): never the content, only its hash (secret when it is). */
export interface HostFileProps extends FileSpec {
    readonly host: string;
    readonly contentHash: pulumi.Input<string>;
}

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

export class HostFile extends pulumi.ComponentResource {
    /** The file's path on the host, known once it is written. */
    readonly path: pulumi.Output<string>;
    /** SHA-256 (hex) of the content as declared; secret when the content is. */
    readonly contentHash: pulumi.Output<string>;
    /** The command that writes the file; depend on it to run after the file is in place. */
    readonly command: command.remote.Command;
    /** The command whose delete removes the file (or puts an adopted original back). */
    readonly lifecycle: command.remote.Command;
    /** For a SystemdService's `after`/`requires`/`wants`: the file is part of its restart decision. */
    readonly dependency: ServiceDependency;

    constructor(name: string, args: HostFileArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const r: ResolvedHostFile = check(() => resolveHostFileArgs(args));
        const { spec } = r;
        const mark = ownerMark(FILE_TYPE, name, opts, spec.adopt);
        // One writer per path on a host: a second HostFile (or anything else claiming the file) is refused now.
        // A service binding a config file over the path hides this file from that service: refused, both ways round.
        claimUnlessUsedOnHost(r.host, fileObject(spec.path), boundFileObject(spec.path), mark, "path", spec.path, (by) =>
            `a path no service on this host binds a config file over (${spec.path} is bound read-only by ${by}, which would hide this file from that service): keep one of the two`);
        rehearsalPoint();

        // An Output or promise content is checked when it resolves, by the same rule as a plain string. A promise
        // becomes an Output first (pulumi.output keeps the secret mark of an Output it resolves to), so that its
        // secretness is the Output's. A secret content must say secret: true (its mode then keeps other users out),
        // and neither a secret content nor any content of a secret file is ever shown in an error ("<secret>").
        // With secret: true the content is made secret whatever it was.
        const given = typeof r.content === "string" ? undefined : pulumi.output(r.content);
        const checkedContent: pulumi.Output<string> =
            given === undefined
                ? pulumi.output(r.content as string)
                : pulumi.all([given, pulumi.output(pulumi.isSecret(given))]).apply(([c, isSecret]) => {
                      if (isSecret && !spec.secret) fail("secret", false, "true when the content is a Pulumi secret (its mode must then keep other users out)");
                      if (typeof c !== "string" || !isFileContent(c)) fail("content", spec.secret || isSecret ? SECRET_SHOWN : c, CONTENT_ALLOWED);
                      return c;
                  });
        const content: pulumi.Output<string> = spec.secret ? pulumi.secret(checkedContent) : checkedContent;
        const contentHash = content.apply(sha256);
        super(FILE_TYPE, name, { host: r.host.name, ...spec, contentHash } satisfies HostFileProps, opts);
        const rendered = renderHostFile(spec, mark);
        // The converge command only ever updates in place (a changed content changes its stdin); the delete lives on
        // the lifecycle command, which no replacement can run.
        const cmds = remoteScript(
            `${name}-file`,
            { host: r.host, script: rendered.script, deleteScript: rendered.deleteScript, stdin: content.apply((c) => frameStdin([c])), hash: rendered.hash, check: rendered.check },
            { parent: this },
        );
        this.command = cmds.converge;
        this.lifecycle = cmds.lifecycle!;
        this.contentHash = contentHash;
        this.dependency = {
            label: `HostFile '${name}'`,
            host: r.host,
            units: [],
            mounts: [],
            files: [spec.path],
            contentHash,
            resources: [cmds.converge],
        };
        this.path = pulumi.unsecret(this.command.stdout.apply(() => spec.path));
        this.registerOutputs({ path: this.path, contentHash: this.contentHash });
    }
}
