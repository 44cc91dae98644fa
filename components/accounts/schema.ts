// HostAccounts arguments: one zod schema that is their type, their validation and their README table. What needs the
// host (a group exists, a shell is installed) is checked by the converge script before it changes anything.
import { bool, int, list, ONCE_VALID, pattern, problem, reasonInWords, record, say, sshPublicKey, z } from "../core/schema";
import { parseSshPublicKey } from "../core/sshkey";
import { POSIX_USER, POSIX_USER_ALLOWED } from "../core/vocab";
import { hostArg } from "../validate";

/**
 * Accounts Debian (and the packages hearth installs) create for themselves, and root: never a human user of HostAccounts
 * (root is the deploy login only with `deploy: { root: { reason } }`). Names starting with `systemd-` or `_` are
 * system accounts too.
 */
export const RESERVED_USERS = [
    "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data", "backup",
    "list", "irc", "gnats", "nobody", "sshd", "messagebus", "postgres", "knot", "statd", "tss", "polkitd", "avahi",
    "dnsmasq", "ntp", "chrony", "unbound", "redis", "memcache", "radicale", "hearth",
] as const;

export const USER_ALLOWED = `${POSIX_USER_ALLOWED}, not a system account (${RESERVED_USERS.join(", ")}, systemd-*, _*)`;

/** Whether `name` is a POSIX user name a human (or the deploy) account may have. */
export function isAccountName(name: string): boolean {
    return POSIX_USER.test(name) && !(RESERVED_USERS as readonly string[]).includes(name) && !name.startsWith("systemd-") && !name.startsWith("_");
}

export const accountName = () => z.string(say(USER_ALLOWED)).refine(isAccountName, say(USER_ALLOWED));

/** Groups that make an account root in effect: sudo is declared with a reason (`sudo: { reason }`), never by group. */
export const PRIVILEGED_GROUPS = [
    "root", "sudo", "admin", "wheel", "shadow", "disk", "kmem", "adm", "staff", "systemd-journal", "docker", "lxd", "incus-admin", "microk8s", "libvirt", "libvirt-qemu", "kvm",
] as const;
export const GROUP_ALLOWED = `${POSIX_USER_ALLOWED.replace("user", "group")}, not a group that makes its members root in effect (${PRIVILEGED_GROUPS.join(", ")}: declare sudo: { reason } instead)`;
const groupName = () =>
    z.string(say(GROUP_ALLOWED)).refine((g) => POSIX_USER.test(g) && !(PRIVILEGED_GROUPS as readonly string[]).includes(g), say(GROUP_ALLOWED));

/** Login shells a user may have: an absolute path below /bin, /sbin, /usr/bin or /usr/sbin (it must exist on the host). */
export const SHELL = /^\/(?:usr\/)?s?bin\/[a-z][a-z0-9._-]{0,31}$/;
export const SHELL_ALLOWED = "an absolute path of a shell in /bin, /sbin, /usr/bin or /usr/sbin, e.g. \"/bin/bash\" (it must exist on the host)";

/** A forced command: one line of printable ASCII without `"` or `\` (it is written inside `command="..."`). */
export const COMMAND = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,1000}$/;
export const COMMAND_ALLOWED = "a command of 1 to 1000 printable ASCII characters without '\"' or '\\' (it is written inside command=\"...\" of the key's line)";

/** One `from=` pattern: an address, a CIDR network, or a host name pattern with `*` and `?`, optionally negated with `!`. */
export const FROM = /^!?(?:[0-9A-Fa-f.:]+(?:\/[0-9]{1,3})?|[A-Za-z0-9*?](?:[A-Za-z0-9*?.-]{0,252}))$/;
export const FROM_ALLOWED = "an address, a CIDR network (\"192.168.1.0/24\") or a host name pattern with * and ? (\"*.lan\"), optionally negated with '!'";

/** The largest RSA key sshd accepts (its SSH_RSA_MAXIMUM_MODULUS_SIZE): a bigger one never logs in and only bloats the file. */
export const MAX_RSA_BITS = 16384;

/** Bits of the SSH wire mpint at `at` in `blob` and where the next field starts; undefined when it runs past the end. */
function mpintBits(blob: Buffer, at: number): { bits: number; next: number } | undefined {
    if (at + 4 > blob.length) return undefined;
    const len = blob.readUInt32BE(at);
    if (at + 4 + len > blob.length) return undefined;
    let i = at + 4;
    const end = at + 4 + len;
    while (i < end && blob[i] === 0) i++;
    return { bits: i === end ? 0 : (end - i - 1) * 8 + (32 - Math.clz32(blob[i])), next: end };
}

/** Why an RSA key is bigger than sshd accepts (its exponent or modulus over MAX_RSA_BITS), or undefined. */
export function rsaTooBig(line: unknown): string | undefined {
    if (typeof line !== "string" || !line.startsWith("ssh-rsa ")) return undefined;
    const blob = Buffer.from(line.split(" ")[1] ?? "", "base64");
    const e = mpintBits(blob, 4 + "ssh-rsa".length);
    const n = e && mpintBits(blob, e.next);
    if (!e || !n) return undefined;
    if (e.bits > MAX_RSA_BITS || n.bits > MAX_RSA_BITS) return `an RSA key of at most ${MAX_RSA_BITS} bits (sshd's maximum; this one has ${Math.max(e.bits, n.bits)})`;
    return undefined;
}

const keyLine = () =>
    sshPublicKey().superRefine((v, ctx) => {
        const big = rsaTooBig(v);
        if (big) ctx.addIssue({ code: "custom", message: big, input: typeof v === "string" ? `${v.slice(0, 40)}... (${v.length} characters)` : v });
    });

export const keyEntryShape = {
    key: keyLine().describe("The OpenSSH public key line `<type> <base64> [comment]` (an RSA key of at most 16384 bits, sshd's maximum)."),
    command: pattern(COMMAND, COMMAND_ALLOWED)
        .optional()
        .describe("A forced command: the key runs only this (`command=\"...\"`), whatever the client asks for. @default - none"),
    from: list(pattern(FROM, FROM_ALLOWED), "a list of address, network or host name patterns", 32, 1)
        .optional()
        .describe("The key logs in only from these clients (`from=\"...\"`). @default - from anywhere"),
    restrict: bool()
        .optional()
        .describe("No port, agent or X11 forwarding and no PTY for this key (`restrict`). @default - true with a command, else false"),
};

/** A key with options: how backups' forced-command keys and a container's keys are contributed. */
export const keyEntrySchema = record(keyEntryShape, "a key entry { key, command?, from?, restrict? }");

/** A key: its public key line, or an entry with options. */
export const keyArg = () =>
    z.union([keyLine(), keyEntrySchema], {
        error: (iss) => (iss.code === "invalid_union" ? (typeof iss.input === "object" && iss.input !== null ? iss.errors[1]?.[0]?.message : iss.errors[0]?.[0]?.message) : undefined),
    });

export type KeyEntry = z.input<typeof keyEntrySchema>;
export type KeyArg = string | KeyEntry;

export const userShape = {
    name: accountName().describe("The account's name: created when missing (with a home directory and a group of the same name), taken over when it exists as an ordinary login account (a system or service account, UID below the host's UID_MIN or with a nologin shell, is refused unless hearth created it)."),
    keys: list(keyArg(), "a list of OpenSSH public key lines or key entries", 100)
        .describe("The keys that log in as this user: the whole of its authorized keys (a key in its ~/.ssh does not log in)."),
    sudo: record({ reason: reasonInWords().describe("Why this user may run anything as root.") }, "{ reason }")
        .optional()
        .describe("Passwordless sudo (`/etc/sudoers.d/hearth-<name>`): root in effect, so it takes a reason. @default - no sudo"),
    shell: pattern(SHELL, SHELL_ALLOWED).optional().describe('Login shell. @default "/bin/bash"'),
    groups: list(groupName(), "a list of group names", 32)
        .optional()
        .describe("Supplementary groups the user is added to (they must exist; a group that makes its members root in effect is refused). A group hearth added the user to is taken away once it is no longer listed; groups the user was in before are never touched. @default []"),
};
export const userSchema = record(userShape, "a user { name, keys, sudo?, shell?, groups? }");
export type UserArgs = z.input<typeof userSchema>;

export const deployUserSchema = record(
    {
        user: accountName().describe("The deploy account: a system user with a home, bash as its shell and passwordless, TTY-less sudo. An existing system or service account hearth did not create is refused."),
        keys: list(keyLine(), "a list of OpenSSH public key lines", 20, 1).describe("The keys hearth (and nothing else) logs in with: the Host's key's public half, and during a rotation the next one."),
    },
    "{ user, keys }",
);
export const deployRootSchema = record(
    { root: record({ reason: reasonInWords().describe("Why hearth logs in as root.") }, "{ reason }").describe("Keep logging in as root (its keys stay as they are: hearth does not manage root's).") },
    "{ root: { reason } }",
);

export const deployArg = () =>
    z.union([deployUserSchema, deployRootSchema], {
        error: (iss) => {
            if (iss.code !== "invalid_union") return undefined;
            const v = iss.input as Record<string, unknown> | undefined;
            if (v && typeof v === "object" && "root" in v && !("user" in v)) return iss.errors[1]?.[0]?.message;
            if (v && typeof v === "object" && "user" in v) return iss.errors[0]?.[0]?.message;
            return "{ user, keys } (a dedicated deploy account) or { root: { reason } }";
        },
    });

/** Shortest and longest guard window: long enough for a fresh SSH login on a busy host, short enough to wait out. */
export const MIN_CONFIRM_SEC = 10;
export const MAX_CONFIRM_SEC = 3600;

export const hostAccountsShape = {
    host: hostArg().describe("The host whose accounts and authorized keys this declares (one HostAccounts per host)."),
    deploy: deployArg().describe("The account hearth logs in with: `{ user, keys }` (a dedicated account with passwordless sudo) or `{ root: { reason } }`."),
    users: list(userSchema, "a list of users", 200)
        .optional()
        .describe("Human users. A user removed from this list keeps its account and home (no data is lost) but its keys are removed and the account is locked (expired). @default []"),
    confirmWithinSec: int(MIN_CONFIRM_SEC, MAX_CONFIRM_SEC)
        .optional()
        .describe("A change of the deploy login (its keys, its sudo, the sshd drop-in) is rolled back unless a fresh login as the deploy account confirms it within this many seconds. @default 120"),
    adopt: bool()
        .optional()
        .describe("Take over the host's accounts from another resource (or another program or stack) whose record or marks are on the host, rewriting them; that resource's delete then leaves them alone. A resource renamed in the program lists its old name in `aliases` instead. @default false"),
};

/** The key text of an entry (without its comment), to find a key declared twice for one user. */
function keyOf(k: unknown): string | undefined {
    const line = typeof k === "string" ? k : (k as KeyEntry | undefined)?.key;
    try {
        return parseSshPublicKey("key", line).key;
    } catch {
        return undefined;
    }
}

export function checkHostAccounts(v: { deploy: { user?: string; keys?: readonly string[] } | { root: unknown }; users?: readonly { name: string; keys: readonly unknown[]; sudo?: unknown }[] }, ctx: z.RefinementCtx): void {
    const users = v.users ?? [];
    const seen = new Map<string, number>();
    users.forEach((u, i) => {
        if (seen.has(u.name)) problem(ctx, ["users", i, "name"], u.name, `a name not already declared (users[${seen.get(u.name)}] is ${u.name})`);
        seen.set(u.name, i);
        const keys = new Map<string, number>();
        u.keys.forEach((k, j) => {
            const key = keyOf(k);
            if (key === undefined) return;
            if (keys.has(key)) problem(ctx, ["users", i, "keys", j], k, `a key not already listed for ${u.name} (keys[${keys.get(key)}] is the same key: one line per key, its options in one entry)`);
            keys.set(key, j);
        });
    });
    if ("user" in v.deploy && v.deploy.user !== undefined) {
        const d = v.deploy.user;
        if (seen.has(d)) problem(ctx, ["users", seen.get(d)!, "name"], d, `a user other than the deploy account ${d} (declare its keys in deploy.keys)`);
        const keys = new Map<string, number>();
        (v.deploy.keys ?? []).forEach((k, j) => {
            const key = keyOf(k);
            if (key === undefined) return;
            if (keys.has(key)) problem(ctx, ["deploy", "keys", j], k, `a key not already listed (keys[${keys.get(key)}] is the same key)`);
            keys.set(key, j);
        });
    }
}

export const HostAccountsArgsSchema = record(hostAccountsShape, "HostAccountsArgs").superRefine(checkHostAccounts, ONCE_VALID);

export type HostAccountsArgs = z.input<typeof HostAccountsArgsSchema>;
