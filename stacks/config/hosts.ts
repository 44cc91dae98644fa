// Site config for hosts: where each machine is, how to reach it over SSH, and what it can do.
import { z } from "zod";
import { address, bool, hostKey, label, list, oneOf, pattern, port, record, secretKey } from "./fields";

const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const user = () => pattern(USER, "a POSIX user name ([a-z_][a-z0-9_-]{0,31})");

export const DEFAULT_SSH_KEY = "sshPrivateKey";

export const bastionSchema = record(
    {
        address: address(),
        port: port().optional(),
        user: user().optional(),
        /** The bastion's public key, pinned like a host's (required). */
        hostKey: hostKey(),
        /** Secret config key holding the bastion's SSH private key. @default "sshPrivateKey" */
        sshKey: secretKey().optional(),
    },
    "a bastion (proxy)",
);

export const factsSchema = record(
    {
        systemd: bool().optional(),
        zfs: bool().optional(),
        zfsEncryption: bool().optional(),
        zfsCompression: list(oneOf(["off", "on", "lzjb", "gzip", "lz4", "zstd"]), "a list of compression algorithms", 6).optional(),
    },
    "host facts",
);

export const hostSchema = record(
    {
        name: label(),
        address: address(),
        port: port().optional(),
        user: user().optional(),
        /** The host's public key, pinned (required): its /etc/ssh/ssh_host_ed25519_key.pub. */
        hostKey: hostKey(),
        /** Secret config key holding this host's SSH private key. @default "sshPrivateKey" */
        sshKey: secretKey().optional(),
        sudo: bool().optional(),
        proxy: bastionSchema.optional(),
        facts: factsSchema.optional(),
    },
    "a host",
);

export type HostConfig = z.infer<typeof hostSchema>;
export const hostsSchema = list(hostSchema, "a list of hosts", 200).min(1, { error: () => "a list of at least one host" });
