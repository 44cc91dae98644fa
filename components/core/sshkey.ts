// OpenSSH public keys (`<type> <base64> [comment]`), checked down to the wire format: the base64 must decode to a
// blob of exactly the named type. Used to pin every host (Host, the site schema, the host-key policy). No Pulumi import.
import { ArgumentError } from "./errors";

/** Key types a host (or a bastion) may be pinned to. Certificates and DSA are not among them. */
export const SSH_KEY_TYPES = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
] as const;
export type SshKeyType = (typeof SSH_KEY_TYPES)[number];

export interface SshPublicKey {
    readonly type: SshKeyType;
    /** The key's base64 part, as given. */
    readonly base64: string;
    readonly comment?: string;
    /** `<type> <base64>`, without the comment. */
    readonly key: string;
}

/** What a host key argument allows; every refusal repeats it, followed by what was wrong with this value. */
export const SSH_PUBLIC_KEY_ALLOWED =
    `an OpenSSH public key line '<type> <base64> [comment]' with type one of ${SSH_KEY_TYPES.join(", ")}, ` +
    "e.g. the host's /etc/ssh/ssh_host_ed25519_key.pub, or a line of `ssh-keyscan -t ed25519 <address>` without the host name";

/** Where to get a host key, for a missing one. */
export const SSH_HOST_KEY_HINT =
    "the host's public key, which pins it so that no other machine can pose as it: copy /etc/ssh/ssh_host_ed25519_key.pub from the host " +
    "(over a channel you trust), or run `ssh-keyscan -t ed25519 <address>` and check its fingerprint against `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the host";

/** Shown instead of a value that holds a private key, so an error never prints key material. */
const PRIVATE_KEY_SHOWN = "<a private key, not shown>";

const COMMENT_MAX = 255;

/** How the blob of each type continues after its type string: the fields, each checked. */
type Field = (b: Uint8Array) => string | undefined;
const bytes = (n: number, what: string): Field => (b) => (b.length === n ? undefined : `${what} is ${b.length} bytes, not ${n}`);
const text = (want: string, what: string): Field => (b) => (decode(b) === want ? undefined : `${what} is ${JSON.stringify(decode(b))}, not ${JSON.stringify(want)}`);
const anyText: Field = () => undefined;
const point = (n: number): Field => (b) => (b.length === n && b[0] === 0x04 ? undefined : `the curve point is not an uncompressed ${n}-byte point`);
const mpint = (minBits: number, what: string): Field => (b) => {
    if (b.length === 0 || (b[0] & 0x80) !== 0) return `${what} is not a positive integer`;
    let i = 0;
    while (i < b.length && b[i] === 0) i++;
    const bits = i === b.length ? 0 : (b.length - i - 1) * 8 + (32 - Math.clz32(b[i]));
    return bits >= minBits ? undefined : `${what} has ${bits} bits, fewer than ${minBits}`;
};

const LAYOUT: Record<SshKeyType, Field[]> = {
    "ssh-ed25519": [bytes(32, "the ed25519 key")],
    "sk-ssh-ed25519@openssh.com": [bytes(32, "the ed25519 key"), anyText],
    "ecdsa-sha2-nistp256": [text("nistp256", "the curve"), point(65)],
    "ecdsa-sha2-nistp384": [text("nistp384", "the curve"), point(97)],
    "ecdsa-sha2-nistp521": [text("nistp521", "the curve"), point(133)],
    "sk-ecdsa-sha2-nistp256@openssh.com": [text("nistp256", "the curve"), point(65), anyText],
    "ssh-rsa": [mpint(2, "the RSA exponent"), mpint(1024, "the RSA modulus")],
};

function decode(b: Uint8Array): string {
    return Buffer.from(b).toString("latin1");
}

/** Splits an SSH wire blob into its length-prefixed strings; undefined when a length runs past the end. */
function wireStrings(blob: Uint8Array): Uint8Array[] | undefined {
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < blob.length) {
        if (at + 4 > blob.length) return undefined;
        const len = ((blob[at] << 24) >>> 0) + (blob[at + 1] << 16) + (blob[at + 2] << 8) + blob[at + 3];
        at += 4;
        if (at + len > blob.length) return undefined;
        out.push(blob.subarray(at, at + len));
        at += len;
    }
    return out;
}

const isType = (t: string): t is SshKeyType => (SSH_KEY_TYPES as readonly string[]).includes(t);

/**
 * Parses an OpenSSH public key line, or throws an ArgumentError naming `arg`, the value and what is allowed (with
 * what was wrong). A value holding a private key is never shown.
 */
export function parseSshPublicKey(arg: string, value: unknown): SshPublicKey {
    const refuse = (detail: string, shown: unknown = value): never => {
        throw new ArgumentError(arg, shown, `${SSH_PUBLIC_KEY_ALLOWED} (${detail})`);
    };
    if (value === undefined || value === null) throw new ArgumentError(arg, value, SSH_HOST_KEY_HINT);
    if (typeof value !== "string") return refuse("not a string");
    if (/PRIVATE KEY|^b3BlbnNzaC1rZXktdjE/.test(value)) return refuse("this is a private key: give the public half, the .pub file", PRIVATE_KEY_SHOWN);
    if (value === "") throw new ArgumentError(arg, value, SSH_HOST_KEY_HINT);
    if (/^[\x20-\x7e]+\r?\n$/.test(value)) return refuse("one line without its line break: trim the newline that ends the .pub file");
    if (/[^\x20-\x7e]/.test(value)) return refuse("one line of printable ASCII: no newline, tab or other control character");
    const m = /^(\S+) (\S+)(?: ([\x20-\x7e]*))?$/.exec(value);
    if (!m) return refuse("the type and the base64 part, separated by one space, with nothing before them");
    const [, type, base64, comment] = m;
    if (!isType(type)) {
        if (isType(base64)) return refuse(`${JSON.stringify(type)} in front of the key type looks like a host name: drop it`);
        return refuse(`${JSON.stringify(type)} is not a known key type`);
    }
    if (comment !== undefined && comment.length > COMMENT_MAX) return refuse(`a comment of at most ${COMMENT_MAX} characters`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) return refuse("the base64 part is not whole base64: truncated, or with characters outside A-Z a-z 0-9 + /");
    const blob = new Uint8Array(Buffer.from(base64, "base64"));
    if (Buffer.from(blob).toString("base64") !== base64) return refuse("the base64 part is not canonical base64");
    const parts = wireStrings(blob);
    if (!parts || parts.length === 0) return refuse("the base64 part is not an SSH key blob: it is truncated or its lengths are wrong");
    const blobType = decode(parts[0]);
    if (blobType !== type) return refuse(`the base64 part is a ${JSON.stringify(blobType.slice(0, 40))} key, not ${type}`);
    const layout = LAYOUT[type];
    if (parts.length !== layout.length + 1) return refuse(`the ${type} key blob has ${parts.length - 1} fields after its type, not ${layout.length}`);
    for (let i = 0; i < layout.length; i++) {
        const problem = layout[i](parts[i + 1]);
        if (problem) return refuse(problem);
    }
    return { type, base64, ...(comment !== undefined ? { comment } : {}), key: `${type} ${base64}` };
}

/** Whether `value` is a valid OpenSSH public key line (see parseSshPublicKey). */
export function isSshPublicKey(value: unknown): boolean {
    try {
        parseSshPublicKey("key", value);
        return true;
    } catch (e) {
        if (e instanceof ArgumentError) return false;
        throw e;
    }
}

/**
 * The public half (`<type> <base64>`) of an OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`, what ssh-keygen
 * writes), read from its unencrypted header (an encrypted key carries its public key in clear too); undefined for any
 * other text or format (PEM RSA/PKCS#8 keys carry no such header). Never returns or throws anything of the private part.
 */
export function publicKeyOfPrivateKey(text: string): string | undefined {
    const m = /-----BEGIN OPENSSH PRIVATE KEY-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END OPENSSH PRIVATE KEY-----/.exec(text);
    if (!m) return undefined;
    const raw = Buffer.from(m[1].replace(/\s+/g, ""), "base64");
    const magic = Buffer.from("openssh-key-v1\0", "latin1");
    if (raw.length < magic.length || !raw.subarray(0, magic.length).equals(magic)) return undefined;
    let at = magic.length;
    const str = (): Uint8Array | undefined => {
        if (at + 4 > raw.length) return undefined;
        const len = raw.readUInt32BE(at);
        at += 4;
        if (at + len > raw.length) return undefined;
        const b = raw.subarray(at, at + len);
        at += len;
        return b;
    };
    // ciphername, kdfname, kdfoptions, then the number of keys and the first public key blob.
    if (!str() || !str() || !str() || at + 4 > raw.length) return undefined;
    if (raw.readUInt32BE(at) < 1) return undefined;
    at += 4;
    const blob = str();
    const parts = blob && wireStrings(blob);
    if (!blob || !parts || parts.length === 0) return undefined;
    const type = decode(parts[0]);
    return isType(type) ? `${type} ${Buffer.from(blob).toString("base64")}` : undefined;
}
