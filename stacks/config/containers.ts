// Site config for nspawn containers (NspawnContainerArgs).
import { z } from "zod";
import { bool, int, label, list, oneOf, reason, record, secretKey } from "./fields";
import { hostPathField } from "./rules";

/**
 * Rules the component owns in full (dataset names, CIDRs, SQL names) are left to it; its errors come back at the key
 * path. Host paths are checked here too, by the same core rule the component uses.
 */
const text = (allowed: string) => z.string({ error: () => allowed });
export const containerSchema = record(
    {
        name: label(),
        host: label("the name of a host in hearth:hosts"),
        machine: text("a machine name").optional(),
        rootfs: z.union(
            [
                record({ zfs: record({ origin: text("a snapshot 'pool/dataset@name'"), dataset: text("a dataset path") }, "a ZFS clone") }, "a rootfs"),
                record({ copyFrom: hostPathField() }, "a rootfs"),
                record({ existing: z.literal(true, { error: () => "true" }) }, "a rootfs"),
            ],
            { error: () => "one of { zfs: { origin, dataset } }, { copyFrom: path } or { existing: true }" },
        ),
        hostname: text("a DNS label").optional(),
        network: z.union([record({ bridge: text("a bridge name") }, "a network"), record({ macvlan: text("an interface name") }, "a network")], {
            error: () => "{ bridge: name } or { macvlan: interface }",
        }),
        addresses: list(text("an address with its prefix"), "a list of addresses with their prefix", 16).min(1, { error: () => "a list of at least one address with its prefix" }),
        gateways: list(text("an IP address"), "a list of gateway addresses", 2).optional(),
        bindMounts: list(record({ source: hostPathField(), target: hostPathField().optional(), readWrite: bool().optional() }, "a bind mount"), "a list of bind mounts", 64).optional(),
        capabilities: list(record({ name: text("a capability name"), reason: reason() }, "a capability"), "a list of capabilities", 40).optional(),
        memoryMaxMiB: int(32, 1 << 24).optional(),
        cpuQuotaPercent: int(1, 100000).optional(),
        tasksMax: int(1, 4194304).optional(),
        ephemeral: bool().optional(),
        privateUsersOwnership: oneOf(["auto", "chown", "map"]).optional(),
        /** Root's login: the public key authorized inside, and the secret config key holding the private half. */
        ssh: record({ authorizedKey: text("an OpenSSH public key line"), privateKey: secretKey() }, "the container's SSH login"),
        sshViaHost: bool().optional(),
        keepData: bool().optional(),
        destroyOnDelete: bool().optional(),
        adopt: bool().optional(),
    },
    "a container",
);
export type ContainerConfig = z.infer<typeof containerSchema>;
export const containersSchema = list(containerSchema, "a list of containers", 500);

