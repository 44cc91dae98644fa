// Site config for stateful things and containers: ZFS datasets, PostgreSQL databases, nspawn containers (args of the components).
import { z } from "zod";
import { SCHEMA_PRIVILEGES, TABLE_PRIVILEGES } from "../../components/postgres/sql";
import { bool, dict, int, label, list, oneOf, reason, record, secretKey } from "./fields";
import { hostPathField } from "./rules";

/**
 * Rules the component owns in full (dataset names, CIDRs, SQL names) are left to it; its errors come back at the key
 * path. Host paths are checked here too, by the same core rule the component uses.
 */
const text = (allowed: string) => z.string({ error: () => allowed });
const MAX_MIB = 2 ** 30;

/** Every ZfsDatasetArgs field except `host`; shared by datasets and a database's tablespace. */
const datasetFields = {
    dataset: text("a dataset path 'pool/name'"),
    compression: text("a compression algorithm").optional(),
    recordsizeKiB: int(1, 128).optional(),
    quotaMiB: int(1, MAX_MIB).optional(),
    refquotaMiB: int(1, MAX_MIB).optional(),
    reservationMiB: int(1, MAX_MIB).optional(),
    mountpoint: hostPathField({ notSystemTree: true }, ["none", "legacy"]).optional(),
    canmount: oneOf(["on", "off", "noauto"]).optional(),
    atime: bool().optional(),
    readonly: bool().optional(),
    xattr: oneOf(["on", "off", "sa"]).optional(),
    userProperties: dict(/^[a-z0-9_.-]+:[a-z0-9_.:-]+$/, "a user property 'module:name'", text("a string"), "a mapping of module:name: value").optional(),
    encryption: bool().optional(),
    adopt: bool().optional(),
    previousNames: list(text("a dataset path"), "a list of dataset paths", 16).optional(),
    origin: text("a snapshot 'pool/dataset@name'").optional(),
    snapshots: record(
        {
            every: oneOf(["hourly", "daily", "weekly"]),
            keep: record({ hourly: int(0, 1000).optional(), daily: int(0, 1000).optional(), weekly: int(0, 1000).optional() }, "a retention"),
        },
        "a snapshot policy",
    ).optional(),
};

export const datasetSchema = record(
    {
        /** Resource name. */
        name: label(),
        host: label("the name of a host in hearth:hosts"),
        ...datasetFields,
        destroyOnDelete: bool().optional(),
        recursive: bool().optional(),
    },
    "a dataset",
);
export type DatasetConfig = z.infer<typeof datasetSchema>;
export const datasetsSchema = list(datasetSchema, "a list of datasets", 1000);

const cidrClient = z.union([text("a CIDR network"), record({ cidr: text("a CIDR network"), ssl: bool().optional() }, "a client")], {
    error: () => "a CIDR network, or { cidr, ssl }",
});

export const databaseSchema = record(
    {
        name: label(),
        host: label("the name of a host in hearth:hosts"),
        database: text("a lowercase SQL name"),
        user: text("a lowercase SQL name").optional(),
        port: int(1, 65535).optional(),
        socketDir: hostPathField().optional(),
        address: text("the address clients use").optional(),
        extensions: list(text("an extension name"), "a list of extension names", 64).optional(),
        untrustedLanguages: list(record({ name: text("an extension name"), reason: reason() }, "an untrusted language opt-in"), "a list of { name, reason }", 16).optional(),
        schemas: list(text("a lowercase SQL name"), "a list of schema names", 64).optional(),
        grants: list(
            record(
                {
                    role: text("a role name"),
                    schema: text("a schema name").optional(),
                    privileges: list(oneOf(SCHEMA_PRIVILEGES), "a list of schema privileges", 4).optional(),
                    tables: list(oneOf(TABLE_PRIVILEGES), "a list of table privileges", 8).optional(),
                },
                "a grant",
            ),
            "a list of grants",
            64,
        ).optional(),
        clients: list(cidrClient, "a list of client networks", 64).optional(),
        passwordVersion: int(1, 1_000_000).optional(),
        connectionLimit: int(1, 100_000).optional(),
        tablespace: record(datasetFields, "a tablespace dataset").optional(),
        pooler: record({ port: int(1, 65535).optional(), listenAddress: text("an IP address or '*'").optional(), poolMode: oneOf(["session", "transaction"]).optional() }, "a pooler").optional(),
        adopt: bool().optional(),
        destroyOnDelete: bool().optional(),
        dumpDir: hostPathField({ notSystemTree: true }).optional(),
    },
    "a database",
);
export type DatabaseConfig = z.infer<typeof databaseSchema>;
export const databasesSchema = list(databaseSchema, "a list of databases", 500);

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

