// Argument errors shared by components, the site schema and the policy pack. No Pulumi import: the wiring turns an
// ArgumentError into a pulumi.ResourceError with the same message.

/** Keys whose values an error never shows, wherever they sit in an object: a private key, a token, a password. */
const SECRET_KEY = /private|secret|token|passw|credential|preshared|apikey/i;

function hideSecrets(this: unknown, key: string, value: unknown): unknown {
    return key !== "" && SECRET_KEY.test(key) && value !== null && typeof value !== "boolean" && typeof value !== "number" ? "(hidden)" : value;
}

/** A value shown in an error: JSON for strings (so control characters and lookalikes are visible), truncated. */
export function describe(value: unknown): string {
    let s: string;
    try {
        s = typeof value === "string" ? JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) : String(JSON.stringify(value, hideSecrets) ?? value);
    } catch {
        s = String(value);
    }
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
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
