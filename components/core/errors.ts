// Argument errors shared by components, the site schema and the policy pack. No Pulumi import: the wiring turns an
// ArgumentError into a pulumi.ResourceError with the same message.

/** Names whose values an error never shows, wherever they sit: a private key, a token, a password, a credential. */
const SECRET_NAME = /secret|(token|password|passwd|passphrase|credentials?|private_?key|priv_?key|preshared_?key|psk|api_?key|access_?key|^key|^auth|_key)$/i;

/** Whether an argument or key of this name may hold a secret (its value is never shown in an error). */
export function isSecretName(name: string | number | undefined): boolean {
    return typeof name === "string" && SECRET_NAME.test(name);
}

/** Text that is key material whatever argument it was given as (a pasted private key). */
const KEY_MATERIAL = /PRIVATE KEY|^b3BlbnNzaC1rZXktdjE|AGE-SECRET-KEY-|PuTTY-User-Key-File|Private-Lines:/;

export const HIDDEN = "(hidden: it may be a secret)";

function hideSecrets(this: unknown, key: string, value: unknown): unknown {
    if (key !== "" && isSecretName(key) && value !== null && typeof value !== "boolean") return HIDDEN;
    if (typeof value === "string" && KEY_MATERIAL.test(value)) return HIDDEN;
    if (typeof value === "bigint") return `${value}n`;
    if (typeof value === "number" && !Number.isFinite(value)) return String(value);
    return value;
}

/**
 * A value shown in an error: JSON for strings (so control characters and lookalikes are visible), truncated; key
 * material and the values of secret-named keys hidden; never throws (a value that cannot be shown says so).
 */
export function describe(value: unknown): string {
    let s: string;
    try {
        if (typeof value === "string") {
            s = KEY_MATERIAL.test(value) ? HIDDEN : JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
        } else if (typeof value === "number") {
            s = Object.is(value, -0) ? "-0" : String(value);
        } else if (typeof value === "bigint") {
            s = `${value}n`;
        } else if (typeof value === "symbol" || typeof value === "function") {
            s = `(a ${typeof value})`;
        } else {
            s = JSON.stringify(value, hideSecrets) ?? String(value);
        }
    } catch {
        s = "(a value that cannot be shown)";
    }
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** `["peers", 0, "endpoint"]` → `peers[0].endpoint`; keys that are not identifiers are quoted (`environment["A B"]`). */
export function argName(path: readonly (string | number)[]): string {
    let out = "";
    for (const p of path) {
        if (typeof p === "number") out += `[${p}]`;
        else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(p)) out += out === "" ? p : `.${p}`;
        else out += `[${JSON.stringify(p)}]`;
    }
    return out === "" ? "args" : out;
}

/** `peers[0].endpoint` → `["peers", 0, "endpoint"]`; `environment["A B"]` → `["environment", "A B"]`. */
export function pathOf(arg: string): (string | number)[] {
    const out: (string | number)[] = [];
    const re = /([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
    let m: RegExpExecArray | null;
    let at = 0;
    while ((m = re.exec(arg)) !== null) {
        if (m.index !== at && arg[at] !== ".") return [arg];
        if (m.index !== at && m.index !== at + 1) return [arg];
        out.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (JSON.parse(m[3]) as string)));
        at = re.lastIndex;
    }
    return at === arg.length && out.length > 0 ? out : [arg];
}

/**
 * A bad argument: names the argument, the value and what is allowed. `path` is the argument's place as keys and
 * indexes (`["peers", 0, "endpoint"]` for `peers[0].endpoint`), so a caller can move it under a config key path without
 * reading the message.
 */
export class ArgumentError extends Error {
    readonly path: readonly (string | number)[];
    constructor(
        readonly arg: string,
        readonly value: unknown,
        readonly allowed: string,
        path?: readonly (string | number)[],
    ) {
        super(`The '${arg}' argument ${describe(value)} is not allowed: expected ${allowed}.`);
        this.name = "ArgumentError";
        this.path = path ?? pathOf(arg);
    }
}
