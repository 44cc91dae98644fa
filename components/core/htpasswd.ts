// A stable htpasswd line: Apache's `$apr1$` MD5-crypt (what Radicale's `htpasswd_encryption = md5` verifies, through
// passlib's apr_md5_crypt) with a salt derived from the password, the user and a context (the site and the service the
// file is for), so an unchanged secret gives a byte-identical line and an unchanged component never runs remotely
// because of it, while the same user and password give another line on another site or service.
//
// Pure: no Pulumi import. The password is never shown in an error.
import { createHash, createHmac } from "crypto";
import { ArgumentError, HIDDEN } from "./errors";

/** A user name an htpasswd file reads back as one: no ':' (the separator), no '#' (a comment), no spaces or controls. */
export const HTPASSWD_USER = /^[A-Za-z0-9._@+-]{1,64}$/;
export const HTPASSWD_USER_ALLOWED = "1 to 64 letters, digits and . _ @ + - (no ':', '#', spaces or control characters)";
export const HTPASSWD_PASSWORD_ALLOWED = "a password of 1 to 4096 characters without NUL, CR or LF";
export const HTPASSWD_CONTEXT_ALLOWED =
    "1 to 256 characters without control characters naming where the line is used, e.g. \"<project>/<stack>/<resource>\" (the same context on every run)";
const CONTEXT_CONTROL = /[\x00-\x1f\x7f-\x9f]/;

const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * The 8-character salt for `user`'s line: HMAC-SHA256 keyed by the password over the user and the context, mapped onto
 * crypt's alphabet. Without a context, the salt of earlier releases (over the user alone).
 */
export function htpasswdSalt(user: string, password: string, context?: string): string {
    const msg = context === undefined ? `hearth htpasswd salt\0${user}` : `hearth htpasswd salt 2\0${user}\0${context}`;
    const mac = createHmac("sha256", Buffer.from(password, "utf8")).update(msg, "utf8").digest();
    // 256 is a multiple of 64: every salt character is equally likely.
    return [...mac.subarray(0, 8)].map((b) => ITOA64[b % 64]).join("");
}

const md5 = (...parts: Buffer[]): Buffer => {
    const h = createHash("md5");
    for (const p of parts) h.update(p);
    return h.digest();
};

/** Apache's MD5-crypt (`$apr1$<salt>$<hash>`) of `password` with `salt` (at most 8 characters of crypt's alphabet). */
export function apr1(password: string, salt: string): string {
    if (!/^[./0-9A-Za-z]{1,8}$/.test(salt)) throw new Error("apr1: the salt must be 1 to 8 characters of [./0-9A-Za-z]");
    const pw = Buffer.from(password, "utf8");
    const magic = Buffer.from("$apr1$");
    const s = Buffer.from(salt);
    const alt = md5(pw, s, pw);
    const parts: Buffer[] = [pw, magic, s];
    for (let left = pw.length; left > 0; left -= 16) parts.push(alt.subarray(0, Math.min(left, 16)));
    for (let i = pw.length; i > 0; i >>= 1) parts.push(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
    let fin = md5(...parts);
    for (let i = 0; i < 1000; i++) {
        const round: Buffer[] = [i & 1 ? pw : fin];
        if (i % 3) round.push(s);
        if (i % 7) round.push(pw);
        round.push(i & 1 ? fin : pw);
        fin = md5(...round);
    }
    const to64 = (v: number, n: number) => {
        let out = "";
        for (let k = 0; k < n; k++, v >>= 6) out += ITOA64[v & 0x3f];
        return out;
    };
    const triple = (a: number, b: number, c: number) => to64((fin[a] << 16) | (fin[b] << 8) | fin[c], 4);
    const hash = triple(0, 6, 12) + triple(1, 7, 13) + triple(2, 8, 14) + triple(3, 9, 15) + triple(4, 10, 5) + to64(fin[11], 2);
    return `$apr1$${salt}$${hash}`;
}

/**
 * One htpasswd line `user:$apr1$<salt>$<hash>` (no newline), its salt derived from the password, the user and
 * `context`: the same three always give the same line, and another context (another site, another service) another
 * line, so a reused password does not show and no table precomputed for a common user name applies. Pass a context
 * that names the site and the file's resource, e.g. `${pulumi.getProject()}/${pulumi.getStack()}/radicale`.
 *
 * Without a context the line is the one earlier releases gave (the salt over the user alone, identical on every site):
 * kept so that existing callers keep their lines until they pass one; every new caller should pass it.
 *
 * Throws an ArgumentError naming `user`, `password` (never showing it) or `context` when one is not allowed.
 */
export function htpasswdLine(user: string, password: string, context?: string): string {
    if (typeof user !== "string" || !HTPASSWD_USER.test(user)) throw new ArgumentError("user", user, HTPASSWD_USER_ALLOWED);
    if (typeof password !== "string" || password.length < 1 || password.length > 4096 || /[\0\r\n]/.test(password)) {
        throw new ArgumentError("password", typeof password === "string" ? HIDDEN : password, HTPASSWD_PASSWORD_ALLOWED);
    }
    if (context !== undefined && (typeof context !== "string" || context.length < 1 || context.length > 256 || CONTEXT_CONTROL.test(context))) {
        throw new ArgumentError("context", context, HTPASSWD_CONTEXT_ALLOWED);
    }
    return `${user}:${apr1(password, htpasswdSalt(user, password, context))}`;
}
