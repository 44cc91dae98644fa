// Recognizes secret-looking material in text that Pulumi stores and shows in the clear.
import { WG_KEY_TEXT } from "../../components/core/vocab";

export interface SecretFinding {
    /** What kind of secret it looks like. */
    readonly kind: string;
    /** A redacted excerpt: enough to find it, never the secret itself. */
    readonly excerpt: string;
}

/** Names that carry a secret when something is assigned to them. */
const SECRET_NAME = String.raw`[A-Za-z0-9_]*(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|PSK)`;

/** A value that is a reference or a placeholder, not a secret: `$VAR`, `$(cmd)`, `"$x"`, empty. */
function isIndirect(value: string): boolean {
    const v = value.replace(/^["']|["']$/g, "");
    return v === "" || /^\$[{(A-Za-z_]/.test(v) || /^<[^>]*>$/.test(v) || /^\*+$/.test(v);
}

function redact(s: string): string {
    return s.length <= 4 ? "****" : `${s.slice(0, 2)}…(${s.length} chars)`;
}

/**
 * Finds private-key blocks, `PASSWORD=`-style assignments with literal values, connection URIs with a password, and
 * WireGuard/age private keys in a text.
 */
export function findSecrets(text: string): SecretFinding[] {
    const found: SecretFinding[] = [];
    for (const m of text.matchAll(/-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----/g)) {
        found.push({ kind: "private key block", excerpt: `-----BEGIN ${m[1]}-----` });
    }
    for (const m of text.matchAll(/AGE-SECRET-KEY-1[0-9A-Z]{20,}/g)) found.push({ kind: "age secret key", excerpt: redact(m[0]) });
    const assign = new RegExp(String.raw`(?:^|[\s;&|('"{,=])(?:export\s+)?(${SECRET_NAME})(\s*=\s*|:\s+)("[^"\n]*"|'[^'\n]*'|[^\s;&|)'"]+)`, "gi");
    for (const [, name, sep, value] of text.matchAll(assign)) {
        // sudoers' `NOPASSWD:` / `PASSWD:` are tags of a rule (`user ALL=(ALL) NOPASSWD: ALL`), not a password.
        if (/^(?:NO)?PASSWD$/i.test(name) && sep.trim() === ":") continue;
        if (isIndirect(value)) continue;
        found.push({ kind: `'${name}=' assignment`, excerpt: `${name}=${redact(value.replace(/^["']|["']$/g, ""))}` });
    }
    const option = new RegExp(String.raw`--(password|passwd|pass|token|secret|api-key)[= ]("[^"\n]*"|'[^'\n]*'|[^\s;&|)'"]+)`, "gi");
    for (const m of text.matchAll(option)) {
        if (isIndirect(m[2])) continue;
        found.push({ kind: `--${m[1]} option`, excerpt: `--${m[1]} ${redact(m[2])}` });
    }
    // A unit's SetCredential= carries the secret itself (LoadCredential= only names a file).
    for (const m of text.matchAll(/^\s*SetCredential\s*=\s*([^:\s]+):(.+)$/gm)) {
        found.push({ kind: "SetCredential= value", excerpt: `SetCredential=${m[1]}:${redact(m[2].trim())}` });
    }
    // SQL: CREATE/ALTER ROLE … PASSWORD 'literal' (a psql variable, :'pw', is the safe form).
    for (const m of text.matchAll(/\bPASSWORD\s+(?:E)?'((?:[^']|'')+)'/gi)) {
        found.push({ kind: "SQL PASSWORD literal", excerpt: `PASSWORD '${redact(m[1])}'` });
    }
    for (const m of text.matchAll(/\b([a-z][a-z0-9+.-]*):\/\/([^\s:/@'"]+):([^\s@/'"]+)@/gi)) {
        if (isIndirect(m[3])) continue;
        found.push({ kind: "connection URI with a password", excerpt: `${m[1]}://${m[2]}:${redact(m[3])}@…` });
    }
    for (const m of text.matchAll(new RegExp(String.raw`^\s*PrivateKey\s*=\s*(${WG_KEY_TEXT})\s*$`, "gm"))) {
        found.push({ kind: "WireGuard PrivateKey", excerpt: `PrivateKey = ${redact(m[1])}` });
    }
    return found;
}
