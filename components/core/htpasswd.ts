// A stable htpasswd line: Apache's `$apr1$` MD5-crypt (what Radicale's `htpasswd_encryption = md5` verifies, through
// passlib's apr_md5_crypt) with a salt derived from the password and the user, so an unchanged secret gives a
// byte-identical line and an unchanged component never runs remotely because of it.
//
// Pure: no Pulumi import. The password is never shown in an error.
import { createHash, createHmac } from "crypto";
import { ArgumentError, HIDDEN } from "./errors";

/** A user name an htpasswd file reads back as one: no ':' (the separator), no '#' (a comment), no spaces or controls. */
export const HTPASSWD_USER = /^[A-Za-z0-9._@+-]{1,64}$/;
export const HTPASSWD_USER_ALLOWED = "1 to 64 letters, digits and . _ @ + - (no ':', '#', spaces or control characters)";
export const HTPASSWD_PASSWORD_ALLOWED = "a password of 1 to 4096 characters without NUL, CR or LF";

const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** The 8-character salt for `user`'s line: HMAC-SHA256 keyed by the password over the user, mapped onto crypt's alphabet. */
export function htpasswdSalt(user: string, password: string): string {
    const mac = createHmac("sha256", Buffer.from(password, "utf8")).update(`hearth htpasswd salt\0${user}`, "utf8").digest();
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
 * One htpasswd line `user:$apr1$<salt>$<hash>` (no newline), its salt derived from the password and the user: the same
 * user and password always give the same line. Throws an ArgumentError naming `user` or `password` (never showing the
 * password) when either is not allowed.
 */
export function htpasswdLine(user: string, password: string): string {
    if (typeof user !== "string" || !HTPASSWD_USER.test(user)) throw new ArgumentError("user", user, HTPASSWD_USER_ALLOWED);
    if (typeof password !== "string" || password.length < 1 || password.length > 4096 || /[\0\r\n]/.test(password)) {
        throw new ArgumentError("password", typeof password === "string" ? HIDDEN : password, HTPASSWD_PASSWORD_ALLOWED);
    }
    return `${user}:${apr1(password, htpasswdSalt(user, password))}`;
}
