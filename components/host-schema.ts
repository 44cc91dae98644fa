// Host arguments: one zod schema that is their type and their checks; the site config's `hearth:hosts` derives from it.
import { bool, dict, hostAddress, int, label, list, oneOf, pattern, port, record, sshPublicKey, z } from "./core/schema";
import { POSIX_USER, POSIX_USER_ALLOWED } from "./core/vocab";
import { inputArg, secretArg } from "./validate";

/** Compression algorithms a host's pool may declare it supports. */
export const HOST_ZFS_COMPRESSION = ["off", "on", "lzjb", "gzip", "lz4", "zstd"] as const;

const PRIVATE_KEY_ALLOWED = "a Pulumi secret Output<string> (config.requireSecret or pulumi.secret): a plain key would be stored in state in clear text";

export const hostFactsSchema = record(
    {
        systemd: bool().optional().describe("systemd is PID 1. @default true"),
        zfs: bool().optional().describe("ZFS is available (`zfs` on PATH). @default false"),
        zfsEncryption: bool().optional().describe("The pool supports native encryption. @default false"),
        zfsCompression: list(oneOf(HOST_ZFS_COMPRESSION), "a list of compression algorithms", HOST_ZFS_COMPRESSION.length)
            .readonly()
            .optional()
            .describe('Compression algorithms the pool supports. @default ["off","on","lzjb","gzip"]'),
        postgresql: record(
            {
                version: int(9, 99).describe("The server's major version."),
                cluster: pattern(/^[a-z0-9][a-z0-9_-]{0,30}$/, "a cluster name (lowercase letters, digits, '_', '-')").describe("The cluster's name."),
            },
            "{ version, cluster }",
        )
            .optional()
            .describe('The PostgreSQL cluster PostgresDb uses: its unit is `postgresql@<version>-<cluster>.service`. @default { version: 15, cluster: "main" } (Debian bookworm)'),
    },
    "host facts",
);
export type HostFacts = z.input<typeof hostFactsSchema>;

/** Where and as whom a machine is reached over SSH: what a host and its bastion share (no key material). */
export const sshEndpointFields = {
    address: inputArg(hostAddress()).describe("DNS name or IP address sshd listens on."),
    port: port().optional().describe("@default 22"),
    user: pattern(POSIX_USER, POSIX_USER_ALLOWED).optional().describe('@default "root"'),
    hostKey: inputArg(sshPublicKey()).describe(
        "The machine's public key, pinned so that no other machine can pose as it: an OpenSSH public key line `<type> <base64> [comment]` " +
            "(its /etc/ssh/ssh_host_ed25519_key.pub, or a line of `ssh-keyscan -t ed25519 <address>` without the host name). Required: an " +
            "unpinned connection accepts any host key. A plain string is checked now; an Output when it resolves, failing the resources that use it.",
    ),
};

export const bastionShape = {
    ...sshEndpointFields,
    privateKey: secretArg(PRIVATE_KEY_ALLOWED).describe("The bastion's SSH private key, a Pulumi secret."),
};
export type BastionArgs = z.input<ReturnType<typeof bastionSchema>>;
const bastionSchema = () => record(bastionShape, "a bastion (proxy)");

/** Every Host argument except key material and the bastion: what the site config takes as it is. */
export const hostFields = {
    name: label().describe("Logical name: used in child resource names and in `out/plan/<stack>/<name>/`."),
    ...sshEndpointFields,
    sudo: bool().optional().describe("Run scripts through `sudo -n` (passwordless sudo required). @default - true when `user` is not root"),
    facts: hostFactsSchema.optional().describe("What the host can do, as declared by its owner; components refuse features a host lacks. @default {}"),
    reapply: record(
        {
            all: int(0, 1_000_000).optional().describe("Raise it to run every converge on this host again on the next `up`. @default 0"),
            resources: dict(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "a component's name (letters, digits, '.', '_', '-')", int(0, 1_000_000), "{ <component name>: counter }")
                .optional()
                .describe("Per component (by the name it was given): raise one to run that component's converges again on the next `up`. @default {}"),
        },
        "{ all?, resources? }",
    )
        .optional()
        .describe(
            "Reapply counters: part of each converge's header, so raising one makes the real engine run those converges again (they are idempotent). " +
                "How to finish a failed `up` whose program was reverted, after `npm run check` showed the drift. @default {}",
        ),
};

export const HostArgsSchema = record(
    {
        ...hostFields,
        privateKey: secretArg(PRIVATE_KEY_ALLOWED).describe("SSH private key: already a Pulumi secret, or it would be stored in plain state."),
        proxy: bastionSchema().optional().describe("Optional jump host, pinned like the host. @default - none"),
    },
    "HostArgs",
);
export type HostArgs = z.input<typeof HostArgsSchema>;

/** The address rule and the key rule, for values that resolve later (checkLater). */
export const HOST_ADDRESS = hostAddress();
export const HOST_KEY = sshPublicKey();
