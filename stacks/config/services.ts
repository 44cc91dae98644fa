// Site config for services: each entry maps onto SystemdServiceArgs, plus the host it runs on and credentials by secret key name.
import { z } from "zod";
import { argvWord, bool, dict, int, label, list, oneOf, pattern, reason, record, secretKey } from "./fields";
import { freeTextField, hostPathField } from "./rules";

/**
 * Rules the component owns in full (unit names, calendar syntax) are left to it; its errors are mapped back to the key
 * path. Paths, environment values and arguments are checked here too, by the same core rules the component uses.
 */
const text = (allowed: string) => z.string({ error: () => allowed });

const bindPath = z.union(
    [hostPathField(), record({ source: hostPathField(), target: hostPathField() }, "a bind path")],
    { error: () => "an absolute path, or { source, target } with two absolute paths" },
);
const bindPaths = list(bindPath, "a list of absolute paths or { source, target } mappings", 64);

const withReason = <S extends z.ZodRawShape>(shape: S, what: string) => record({ ...shape, reason: reason() }, what);

const loosenSchema = record(
    {
        writablePaths: withReason({ paths: list(hostPathField(), "a list of absolute paths", 64) }, "a writable-paths loosening").optional(),
        capabilities: withReason({ caps: list(pattern(/^CAP_[A-Z_]{2,30}$/, "a capability name such as CAP_NET_RAW"), "a list of capability names", 40) }, "a capabilities loosening").optional(),
        addressFamilies: withReason({ families: list(pattern(/^AF_[A-Z0-9_]{2,20}$/, "an address family such as AF_NETLINK"), "a list of address families", 20) }, "an address-families loosening").optional(),
        syscallGroups: withReason({ groups: list(pattern(/^@[a-z-]{2,30}$/, "a syscall group such as @mount"), "a list of syscall groups", 20) }, "a syscall-groups loosening").optional(),
        namespaces: withReason({ namespaces: list(oneOf(["cgroup", "ipc", "net", "mnt", "pid", "user", "uts"]), "a list of namespace types", 7) }, "a namespaces loosening").optional(),
        memoryDenyWriteExecute: withReason({}, "a loosening with only a reason").optional(),
        privateDevices: withReason({}, "a loosening with only a reason").optional(),
        privateUsers: withReason({}, "a loosening with only a reason").optional(),
        protectHome: withReason({}, "a loosening with only a reason").optional(),
        procSubset: withReason({}, "a loosening with only a reason").optional(),
    },
    "loosen",
);

export const serviceSchema = record(
    {
        /** Resource and (unless `unitName` is given) unit name. */
        name: label(),
        /** Name of the host in `hearth:hosts` it runs on. */
        host: label("the name of a host in hearth:hosts"),
        unitName: text("a unit base name").optional(),
        description: freeTextField({ maxLength: 200, minLength: 1 }).optional(),
        execStart: list(argvWord().pipe(freeTextField({ maxLength: 4096 })), "an argv list (program path first)", 256).min(1, { error: () => "an argv list (program path first)" }).optional(),
        environment: dict(/^[A-Z_][A-Z0-9_]{0,127}$/, "a variable name matching [A-Z_][A-Z0-9_]*", freeTextField({ maxLength: 4096 }), "a mapping of NAME: value").optional(),
        user: z
            .union([record({ dynamic: z.literal(true, { error: () => "true" }) }, "a user"), record({ name: text("a POSIX user name"), reason: reason() }, "a user")], {
                error: () => "{ dynamic: true } or { name, reason }",
            })
            .optional(),
        runAsRoot: record({ reason: reason() }, "runAsRoot").optional(),
        stateDirectory: text("a relative directory name").optional(),
        cacheDirectory: text("a relative directory name").optional(),
        runtimeDirectory: text("a relative directory name").optional(),
        logsDirectory: text("a relative directory name").optional(),
        bindPaths: bindPaths.optional(),
        bindReadOnlyPaths: bindPaths.optional(),
        readWritePaths: list(hostPathField(), "a list of absolute paths", 64).optional(),
        network: oneOf(["none", "local", "internet"]).optional(),
        listenPorts: list(int(1, 65535), "a list of ports", 64).optional(),
        memoryMaxMiB: int(1, 16 * 1024 * 1024).optional(),
        cpuQuotaPercent: int(1, 100000).optional(),
        tasksMax: int(1, 4194304).optional(),
        oomPolicy: oneOf(["kill", "stop", "continue"]).optional(),
        restart: oneOf(["on-failure", "always", "no"]).optional(),
        restartSec: int(0, 3600).optional(),
        /** Credential name to the name of the secret config key holding its value. */
        credentials: dict(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "a credential name (letters, digits, _ . -)", secretKey(), "a mapping of credential name: secret config key").optional(),
        timer: record({ onCalendar: text("a systemd calendar expression"), persistent: bool().optional(), randomizedDelaySec: int(0, 7 * 86400).optional() }, "a timer").optional(),
        socket: record(
            {
                listenStream: z.union([int(1, 65535), text("a port, address:port or unix socket path")], { error: () => "a port, 'address:port' or an absolute unix socket path" }),
                idleStopSec: int(1, 86400),
                targetPort: int(1, 65535),
            },
            "a socket",
        ).optional(),
        dropIn: record({ unit: text("a packaged unit name ending in .service"), name: text("a drop-in name").optional() }, "a drop-in").optional(),
        loosen: loosenSchema.optional(),
        hostname: text("a DNS name").optional(),
        enable: bool().optional(),
        startWhenExists: hostPathField().optional(),
    },
    "a service",
);

export type ServiceConfig = z.infer<typeof serviceSchema>;
export const servicesSchema = list(serviceSchema, "a list of services", 2000);
