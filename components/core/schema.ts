// The zod building blocks every component schema and the site config share: one rule per kind of value, each carrying
// the one sentence that says what is allowed, and one parser that turns the first problem into an ArgumentError
// naming the argument's path, the value and that sentence.
//
// Pure: no Pulumi import. A component's schema (components/<c>/schema.ts) is its argument type (`z.input`), its
// validation and the source of its README's argument table (`.describe()` on each field; `@default` in that text).
import { z } from "zod";
import { argName, ArgumentError, HIDDEN, isSecretName } from "./errors";

export { argName };
import { parseCidr, parseIp } from "./ip";
import { parseSshPublicKey, SSH_PUBLIC_KEY_ALLOWED } from "./sshkey";
import { REASON, REASON_ALLOWED, REASON_WORDS, REASON_WORDS_ALLOWED } from "./vocab";

export { REASON, REASON_ALLOWED };
import { freeTextAllowed, FreeTextOptions, freeTextProblem, HOST_ADDRESS_ALLOWED, HOST_PATH_ALLOWED, HostPathOptions, isHostAddress, isHostPath, isSystemTree, SYSTEM_TREE_ALLOWED } from "./rules";

export { z };

/** zod params whose every failure (wrong type, range, pattern) reports `allowed`. */
export const say = (allowed: string) => ({ error: () => allowed });

export function int(min: number, max: number, allowed = `an integer from ${min} to ${max}`) {
    return z.int(say(allowed)).min(min, say(allowed)).max(max, say(allowed));
}

export const port = () => int(1, 65535);

/** A string matching an anchored pattern. */
export function pattern(re: RegExp, allowed: string) {
    if (!re.source.startsWith("^") || !re.source.endsWith("$") || re.global || re.sticky) throw new Error(`the pattern for ${allowed} must be anchored (^...$) and neither global nor sticky`);
    return z.string(say(allowed)).regex(re, say(allowed));
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
    return z.enum(values, say(`one of ${values.map((v) => JSON.stringify(v)).join(", ")}`));
}

export function bool() {
    return z.boolean(say("true or false"));
}

/** An array of at most `max` items (and at least `min`). */
export function list<T extends z.ZodType>(item: T, allowed: string, max = 1000, min = 0) {
    const base = z.array(item, say(allowed)).max(max, say(`${allowed}, at most ${max} entries`));
    return min > 0 ? base.min(min, say(`${allowed}, at least ${min} ${min === 1 ? "entry" : "entries"}`)) : base;
}

/** A mapping with a fixed set of keys; an unknown key (a typo, usually) is an error that lists the known ones. */
export function record<S extends z.ZodRawShape>(shape: S, what: string) {
    const keys = Object.keys(shape).join(", ");
    return z.strictObject(shape, { error: (iss) => (iss.code === "unrecognized_keys" ? `one of the keys of ${what}: ${keys}` : `${what} (a mapping with keys ${keys})`) });
}

/** A mapping from names to values, e.g. environment variables. */
export function dict<V extends z.ZodType>(key: RegExp, keyAllowed: string, value: V, what: string) {
    return z.record(pattern(key, keyAllowed), value, say(what));
}

/** Lowercase DNS label: hosts, services, containers and other names that reach shell, units and paths. */
export const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const LABEL_ALLOWED = "a lowercase DNS label (a-z, 0-9, inner '-', 1 to 63 characters)";
export const label = (allowed = LABEL_ALLOWED) => pattern(LABEL, allowed);

/** A reason written for a loosening or an opt-in (core/vocab.ts: REASON). */
export const reason = () => pattern(REASON, REASON_ALLOWED);

/** A reason a reader will see (a unit comment, an opt-in): the reason rule, and in words. */
export const reasonInWords = () =>
    z.string(say(REASON_ALLOWED)).superRefine((v, ctx) => {
        if (!REASON.test(v)) problem(ctx, [], v, REASON_ALLOWED);
        else if (!REASON_WORDS.test(v)) problem(ctx, [], v, REASON_WORDS_ALLOWED);
    });

/** A string checked by a predicate; `allowed` is what every failure reports. */
export function checked(allowed: string, ok: (v: string) => boolean) {
    return z.string(say(allowed)).refine(ok, say(allowed));
}

/** A host path by the shared rule (core/rules.ts); `literals` are words the field also takes (a mountpoint's `none`). */
export function hostPath(opts: HostPathOptions = {}, literals: readonly string[] = []) {
    const base = literals.length ? `${literals.map((l) => `'${l}'`).join(", ")} or ${HOST_PATH_ALLOWED}` : HOST_PATH_ALLOWED;
    return z.string(say(base)).superRefine((v, ctx) => {
        if (literals.includes(v)) return;
        if (!isHostPath(v)) ctx.addIssue({ code: "custom", message: base, input: v });
        else if (opts.notSystemTree && isSystemTree(v)) ctx.addIssue({ code: "custom", message: SYSTEM_TREE_ALLOWED, input: v });
    });
}

// ---- file modes --------------------------------------------------------------------------------------------------

/**
 * A file mode is written as a quoted 4-digit octal string ("0644"): unambiguous in code and in YAML, where an unquoted
 * 0644 is read as the decimal 644 by one parser and as octal by another (and 0o644 in code is the number 420).
 */
export const FILE_MODE = /^[0-7]{4}$/;
export const FILE_MODE_ALLOWED = "a file mode as a quoted 4-digit octal string, e.g. \"0644\" or \"0640\" (a number is refused: YAML reads an unquoted 0644 as 644 or as octal depending on the parser, and 0o644 in code is 420; quote the octal string)";

/** What a caller refuses in a mode, each with the reason its message gives (e.g. "a configuration file is never a program"). */
export interface FileModeRules {
    /** Setuid, setgid or sticky (07000). */
    readonly special?: string;
    /** Any execute bit (0111). */
    readonly exec?: string;
    /** Group or world write (0022). */
    readonly sharedWrite?: string;
    /** Anything for other users (0007): a secret. */
    readonly other?: string;
}

const MODE_SENTENCES: Record<keyof FileModeRules, readonly [number, string]> = {
    special: [0o7000, "a mode without setuid, setgid or sticky bits (the first of the 4 digits is 0)"],
    exec: [0o111, "a mode with no execute bit (no 0100, 0010 or 0001)"],
    sharedWrite: [0o022, "a mode no other user may write (no 0020 or 0002 bit)"],
    other: [0o007, "a mode that gives other users nothing (the last digit is 0, e.g. \"0600\" or \"0640\")"],
};

/** What a refused bit's message says: the rule, then the caller's reason. */
export function fileModeAllowed(rule: keyof FileModeRules, reason: string): string {
    return `${MODE_SENTENCES[rule][1]}: ${reason}`;
}

/** The numeric value of a mode string `fileMode` accepted. */
export const modeBits = (mode: string): number => parseInt(mode, 8);

/** The first rule a checked mode string breaks (in the order special, exec, sharedWrite, other), or undefined. */
export function fileModeProblem(mode: string, refuse: FileModeRules): string | undefined {
    const bits = modeBits(mode);
    for (const rule of ["special", "exec", "sharedWrite", "other"] as const) {
        const reason = refuse[rule];
        if (reason !== undefined && bits & MODE_SENTENCES[rule][0]) return fileModeAllowed(rule, reason);
    }
    return undefined;
}

/** A file mode by the shared rule (FILE_MODE), refusing the bits `refuse` names. */
export function fileMode(refuse: FileModeRules = {}) {
    return z.string(say(FILE_MODE_ALLOWED)).superRefine((v, ctx) => {
        if (!FILE_MODE.test(v)) return void ctx.addIssue({ code: "custom", message: FILE_MODE_ALLOWED, input: v });
        const why = fileModeProblem(v, refuse);
        if (why !== undefined) ctx.addIssue({ code: "custom", message: why, input: v });
    });
}

/** Free text by the shared rule (no control, bidi or zero-width characters). */
export function freeText(opts: FreeTextOptions) {
    const allowed = freeTextAllowed(opts);
    return checked(allowed, (v) => freeTextProblem(v, opts) === undefined);
}

/** An IP literal or a DNS name: where ssh or a client connects. */
export const hostAddress = () => checked(HOST_ADDRESS_ALLOWED, isHostAddress);

/** An IPv4 or IPv6 address (core/ip.ts: strict, no zone index). */
export const ipAddress = (allowed = "an IPv4 or IPv6 address, e.g. \"10.0.0.1\" or \"fd00::1\"") => checked(allowed, (v) => parseIp(v) !== undefined);

/** A CIDR: `network` demands zero host bits. */
export function cidr(opts: { network?: boolean; allowed?: string } = {}) {
    const allowed = opts.allowed ?? (opts.network ? "a CIDR network with no host bits, e.g. \"10.20.0.0/24\" or \"fd12:3456:789a:1::/64\"" : "an address with its prefix, e.g. \"10.99.0.1/24\"");
    return checked(allowed, (v) => parseCidr(v, { network: opts.network }) !== undefined);
}

/**
 * An OpenSSH public key line, `<type> <base64> [comment]`, by the one parser (core/sshkey.ts: the base64 must decode to
 * a key blob of the named type; a pasted private key is never shown). `allowed` replaces the parser's sentence (its
 * detail is kept).
 */
export function sshPublicKey(allowed?: string) {
    // The parser says what is wrong with any value (a missing key, a number, a private key), so it sees them all.
    const s = z.custom<string>(() => true).superRefine((v, ctx) => {
        try {
            parseSshPublicKey("key", v);
        } catch (e) {
            if (!(e instanceof ArgumentError)) throw e;
            const detail = e.allowed.startsWith(SSH_PUBLIC_KEY_ALLOWED) ? e.allowed.slice(SSH_PUBLIC_KEY_ALLOWED.length) : "";
            ctx.addIssue({ code: "custom", message: allowed ? allowed + detail : e.allowed, input: e.value });
        }
    });
    return documented(s, { type: "string" });
}

/** What the argument-table generator is told about a schema it cannot read by itself. */
export interface SchemaDocs {
    /** The forms it takes (a parse that picks one by a test): the table lists their fields. */
    readonly forms?: readonly z.ZodType[];
    /** Its type in words (`Host`, `secret Output`), for a custom check. */
    readonly type?: string;
    /** Names of the forms, in order: each gets its own table. */
    readonly formNames?: readonly string[];
    /** A field that must be absent in this form: left out of the table. */
    readonly absent?: boolean;
}

const DOCUMENTED = new WeakMap<object, SchemaDocs>();

/** Records docs for `schema` (see SchemaDocs); returns `schema`. Kept by its definition, which `.describe()` clones share. */
export function documented<S extends z.ZodType>(schema: S, docs: SchemaDocs): S {
    DOCUMENTED.set(schema._zod.def, docs);
    return schema;
}

/** What `documented` recorded for a schema. */
export function schemaDocs(schema: z.ZodType): SchemaDocs | undefined {
    return DOCUMENTED.get(schema._zod.def);
}

// ---- parsing ---------------------------------------------------------------------------------------------------

export type ArgPath = readonly (string | number)[];

/** One problem with an argument: where (path and its text), what was given, what is allowed. */
export interface ArgIssue {
    readonly path: ArgPath;
    readonly arg: string;
    readonly value: unknown;
    readonly allowed: string;
}

function at(input: unknown, path: readonly PropertyKey[]): unknown {
    let v = input;
    for (const p of path) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<PropertyKey, unknown>)[p];
    }
    return v;
}

/** Turns zod's issues into argument issues: paths under `base`, the offending value, what is allowed. */
export function toArgIssues(issues: readonly z.core.$ZodIssue[], input: unknown, base: ArgPath = []): ArgIssue[] {
    const out: ArgIssue[] = [];
    for (const issue of issues) {
        const rel = issue.path.filter((p): p is string | number => typeof p !== "symbol");
        if (issue.code === "unrecognized_keys") {
            for (const k of issue.keys) out.push(make([...base, ...rel, k], at(input, [...rel, k]), issue.message));
            continue;
        }
        if (issue.code === "invalid_key") {
            out.push(make([...base, ...rel], (issue as { input?: unknown }).input, issue.issues[0]?.message ?? issue.message));
            continue;
        }
        if (issue.code === "invalid_union") {
            // When one option's type matched and only something inside it failed, that option's problem is the one to
            // name (`clients[0].ssl`), not the union as a whole (`clients[0]`).
            const inner = matchedOption(issue.errors);
            if (inner) {
                out.push(...toArgIssues(inner, at(input, rel), [...base, ...rel]));
                continue;
            }
        }
        const value = "input" in issue ? (issue as { input?: unknown }).input : at(input, rel);
        out.push(make([...base, ...rel], value === undefined ? at(input, rel) : value, issue.message));
    }
    return out;
}

/** The issues of the one union option whose own type matched (every issue lies below it), if exactly one did. */
export function matchedOption(options: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | undefined {
    const matched = options.filter((issues) => issues.length > 0 && issues.every((i) => i.path.length > 0 && i.code !== "unrecognized_keys"));
    return matched.length === 1 ? matched[0] : undefined;
}

/** A placeholder a rule put in place of the value (`"<a plain string>"`, `"(not a Host)"`): shown as it is. */
const PLACEHOLDER = /^[<(].*[>)]$/;

function make(path: ArgPath, value: unknown, allowed: string): ArgIssue {
    // Under a name that may hold a secret (`privateKey`, `apiToken`, `credentials`, …) the value is never shown.
    const hidden = path.some(isSecretName) && value !== undefined && !(typeof value === "string" && PLACEHOLDER.test(value)) && typeof value !== "boolean";
    return { path, arg: argName(path), value: hidden ? HIDDEN : value, allowed };
}

/** Parses `input` with `schema`; the first problem throws an ArgumentError whose `path` is under `base`. */
export function parseArgs<S extends z.ZodType>(schema: S, input: unknown, base: ArgPath = []): z.output<S> {
    const r = schema.safeParse(input, { reportInput: true });
    if (r.success) return r.data;
    const [first] = toArgIssues(r.error.issues, input, base);
    throw new ArgumentError(first.arg, first.value, first.allowed, first.path);
}

/** Parses and returns every problem instead of throwing (the site config reports them all at once). */
export function checkArgs<S extends z.ZodType>(schema: S, input: unknown, base: ArgPath = []): { ok: true; value: z.output<S> } | { ok: false; issues: ArgIssue[] } {
    const r = schema.safeParse(input, { reportInput: true });
    return r.success ? { ok: true, value: r.data } : { ok: false, issues: toArgIssues(r.error.issues, input, base) };
}

/**
 * `superRefine(check, ONCE_VALID)`: run a cross-field check only once every field passed its own rule (zod runs
 * refinements after non-fatal field problems too, and a cross-field check must not read a value its rule refused).
 */
export const ONCE_VALID = { when: (payload: { issues: readonly unknown[] }) => payload.issues.length === 0 };

/** Adds a cross-field problem from inside a `superRefine`: `path` is relative to the refined object. */
export function problem(ctx: z.RefinementCtx, path: ArgPath, value: unknown, allowed: string): void {
    ctx.addIssue({ code: "custom", path: [...path], message: allowed, input: value });
}
