// HostFile arguments: one zod schema that is their type, their validation and their README table. What needs the
// host (a non-root owner or group exists) is checked by the converge script before it writes anything.
import { configPathProblem } from "../core/rules";
import { bool, documented, FILE_MODE_ALLOWED, fileMode, fileModeAllowed, fileModeProblem, FileModeRules, ONCE_VALID, pattern, problem, record, say, z } from "../core/schema";
import { POSIX_USER, POSIX_USER_ALLOWED } from "../core/vocab";
import { hostArg, inputArg } from "../validate";

/** Largest content, in bytes (UTF-8). */
export const MAX_CONTENT_BYTES = 1024 * 1024;
export const CONTENT_ALLOWED = `text of at most ${MAX_CONTENT_BYTES} bytes (UTF-8) without NUL characters or unpaired surrogates`;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether a resolved content is one a HostFile writes: stdin frames carry anything but NUL, and it must be UTF-8. */
export function isFileContent(v: string): boolean {
    return !v.includes("\0") && !LONE_SURROGATE.test(v) && Buffer.byteLength(v, "utf8") <= MAX_CONTENT_BYTES;
}

/** The file's content as a plain string (checked now). */
export const fileContent = () => z.string(say(CONTENT_ALLOWED)).refine(isFileContent, say(CONTENT_ALLOWED));

/** What a HostFile's mode refuses, by the shared mode rule (core/schema.ts: fileMode). */
const NOT_A_PROGRAM = "a configuration file is never a program";
export const HOST_FILE_MODE: FileModeRules = { special: NOT_A_PROGRAM, exec: NOT_A_PROGRAM, sharedWrite: "the group or anyone could change the configuration" };
/** A secret file's mode also gives other users nothing. */
const SECRET_MODE: FileModeRules = { other: "secret is true" };

export const MODE_ALLOWED = FILE_MODE_ALLOWED;
export const MODE_SPECIAL_ALLOWED = fileModeAllowed("special", NOT_A_PROGRAM);
export const MODE_EXEC_ALLOWED = fileModeAllowed("exec", NOT_A_PROGRAM);
export const MODE_WRITABLE_ALLOWED = fileModeAllowed("sharedWrite", HOST_FILE_MODE.sharedWrite!);
export const MODE_SECRET_ALLOWED = fileModeAllowed("other", SECRET_MODE.other!);

export const CONFIG_PATH_DOC = "a file in /etc/<package>/…, /etc/default/<name> or /usr/local/etc/…, outside the trees hearth relies on";

/** A configuration file path (core/rules.ts: configPathProblem says what is wrong, down to the refused tree). */
export function configPath() {
    return z.string(say(configPathProblem(undefined)!)).superRefine((v, ctx) => {
        const why = configPathProblem(v);
        if (why !== undefined) ctx.addIssue({ code: "custom", message: why, input: v });
    });
}

const posixName = (what: string) =>
    pattern(POSIX_USER, POSIX_USER_ALLOWED.replace("user", what));

/** The content: a string checked now, or an Output (or promise) checked by the same rule when it resolves. */
const contentArg = () => documented(inputArg(fileContent()), { type: "string or Output<string>" });

export const hostFileShape = {
    host: hostArg().describe("The host the file is written on."),
    path: configPath().describe(
        "Absolute path of the file: inside /etc/<package>/… (at least one directory below /etc), /etc/default/<name> or /usr/local/etc/…, and outside every tree hearth relies on or that runs code as root (see the README's list, e.g. /etc/systemd, /etc/ssh, /etc/sudoers.d, /etc/apt, /etc/postgresql, /usr/local/etc/hearth).",
    ),
    content: contentArg().describe(
        `The file's content (at most ${MAX_CONTENT_BYTES} bytes); an Output is checked when it resolves. Written byte for byte (no header is added: the ownership mark is a record in hearth's state directory).`,
    ),
    secret: bool()
        .optional()
        .describe(
            "The content is a secret: it must be a Pulumi secret Output (or a promise of one), never a plain string; only its hash is recorded (itself secret), the mode may give other users nothing, and the default mode is 0600. A secret content without `secret: true` fails when it resolves. @default false",
        ),
    mode: fileMode(HOST_FILE_MODE)
        .optional()
        .describe(
            "Octal mode as a quoted 4-digit string, e.g. \"0644\" or \"0640\" (a number is refused): no setuid, setgid or sticky bit, no execute bit, neither group- nor world-writable; a secret's gives other users nothing. @default \"0644\" (\"0600\" when secret)",
        ),
    owner: posixName("user").optional().describe("Owning user; a non-root user must exist on the host (checked before anything is written). @default \"root\""),
    group: posixName("group").optional().describe("Owning group; a non-root group must exist on the host. @default \"root\""),
    createParents: bool()
        .optional()
        .describe(
            "Create missing parent directories (0755 root:root). Each one hearth creates is recorded as its own and removed on delete only when empty; without it, a missing parent directory fails the converge. @default false",
        ),
    adopt: bool()
        .optional()
        .describe(
            "Take over a file that already exists at `path` and that hearth does not manage: the original is kept as `<path>.hearth-orig` (a hard link made before the new content replaces it) and put back on delete. Without it such a file is refused. @default false",
        ),
};

/** The rules between fields; paths are relative to the arguments. */
export function checkHostFile(v: { content?: unknown; secret?: boolean; mode?: string }, ctx: z.RefinementCtx): void {
    // A promise cannot be told secret or not before it resolves: it is made secret (secret: true) like an Output.
    if (v.secret && typeof v.content === "string") problem(ctx, ["content"], "<a plain string>", "a Pulumi secret Output (config.requireSecret or pulumi.secret) when secret is true; a plain string would be stored in state in clear text");
    // The mode's own rule (HOST_FILE_MODE) is its field's; a secret's mode also gives other users nothing.
    if (v.secret && v.mode !== undefined) {
        const why = fileModeProblem(v.mode, SECRET_MODE);
        if (why !== undefined) problem(ctx, ["mode"], v.mode, why);
    }
}

export const HostFileArgsSchema = record(hostFileShape, "HostFileArgs").superRefine(checkHostFile, ONCE_VALID);

export type HostFileArgs = z.input<typeof HostFileArgsSchema>;
