// The arguments of a SystemdService as one zod schema: the argument type, every check, and the text of the README's
// argument table (each field's `.describe()`). A service is either a full unit (`description` and `execStart`
// required) or a drop-in over a packaged unit (`dropIn` required; command, identity and restart policy absent).
import { bool, documented, fileMode, FileModeRules, int, oneOf, pattern, port, problem, reasonInWords, record, say, z } from "../core/schema";
import { freeTextAllowed, freeTextProblem, HOST_PATH_ALLOWED, isHostPath, serviceDirectoryAllowed, serviceDirectoryProblem, ServiceDirectoryKind } from "../core/rules";
import { CAPABILITIES, NAMESPACES, POSIX_USER, POSIX_USER_ALLOWED } from "../core/vocab";
import { hostArg, isOutput, secretArg } from "../validate";
import { Dependable, isDependable } from "../refs";
import type { Output } from "@pulumi/pulumi";
import { isCalendarExpression, isHiddenTree, isProtectedUnitBase, isSystemTree, PACKAGED_SERVICE, parseListenStream, UNIT_BASE } from "./check";
import { HEARTH_ETC, isLifelineUnit } from "./model";

// ---- rules only a service has ------------------------------------------------------------------------------------

export const ADDRESS_FAMILIES = [
    "AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET", "AF_ALG", "AF_BLUETOOTH", "AF_CAN", "AF_VSOCK", "AF_XDP", "AF_KEY", "AF_TIPC",
] as const;

/** systemd 252's named groups, as `systemd-analyze syscall-filter` lists them (@default and @known make no sense here). */
export const SYSCALL_GROUPS = [
    "@aio", "@basic-io", "@chown", "@clock", "@cpu-emulation", "@debug", "@file-system", "@io-event", "@ipc", "@keyring",
    "@memlock", "@module", "@mount", "@network-io", "@obsolete", "@pkey", "@privileged", "@process", "@raw-io", "@reboot",
    "@resources", "@setuid", "@signal", "@swap", "@sync", "@system-service", "@timer",
] as const;

const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
// Loader hooks would run code in the service; the others are set by systemd itself and overriding them misleads it.
const RESERVED_ENV = /^(LD_.*|CREDENTIALS_DIRECTORY|STATE_DIRECTORY|CACHE_DIRECTORY|LOGS_DIRECTORY|RUNTIME_DIRECTORY|CONFIGURATION_DIRECTORY|LISTEN_FDS|LISTEN_PID|LISTEN_FDNAMES|NOTIFY_SOCKET|WATCHDOG_PID|WATCHDOG_USEC|INVOCATION_ID|JOURNAL_STREAM|MAINPID|SERVICE_RESULT|EXIT_CODE|EXIT_STATUS|MONITOR_.*|TRIGGER_.*)$/;
const CRED_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const DROP_IN_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

const DROP_IN_KEEPS = "nothing: a drop-in carries hardening and limits only, the packaged unit keeps its command, identity and restart policy";

/**
 * One of two schemas, chosen by `pick`. zod's own union reports a problem in neither option when both fail; this
 * one reports the chosen option's problems at their own paths (`execStart` of a drop-in, `user.reason`).
 */
export function systemdEither<A extends z.ZodType, B extends z.ZodType>(pick: (v: unknown) => boolean, a: A, b: B) {
    const either = z.unknown().transform((v, ctx) => {
        const r = (pick(v) ? a : b).safeParse(v, { reportInput: true });
        if (r.success) return r.data;
        for (const issue of r.error.issues) ctx.addIssue(issue as unknown as Parameters<typeof ctx.addIssue>[0]);
        return z.NEVER;
    });
    return documented(either, { forms: [b, a], formNames: ["A service", "A drop-in on a packaged unit (`dropIn`)"] }) as unknown as z.ZodType<z.output<A> | z.output<B>, z.input<A> | z.input<B>>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !isOutput(v);

/** A field that must be absent; `shown` replaces the value in the error (credentials are Outputs, never echoed). */
function absent(allowed: string, shown?: string) {
    return documented(
        z.custom<undefined>().superRefine((v, ctx) => {
            if (v !== undefined) problem(ctx, [], shown ?? v, allowed);
        }),
        { absent: true },
    )
        .optional()
        .describe(`Absent on a drop-in: ${allowed}.`);
}

/** A plain string with no hidden or reordered text; an Output is refused without showing it. */
function plainText(maxLength: number, allowed: string, outputAllowed: string) {
    const s = z.custom<string>().superRefine((v, ctx) => {
        if (typeof v !== "string") problem(ctx, [], isOutput(v) ? "<Output>" : v, outputAllowed);
        else if (freeTextProblem(v, { maxLength }) !== undefined) problem(ctx, [], v, allowed);
    });
    return documented(s, { type: "string" });
}

const ARG_TEXT = freeTextAllowed({ maxLength: 4096 });

const DESCRIPTION_ALLOWED = "one line of 1 to 200 visible characters, without control or invisible characters, surrounding spaces or a trailing backslash";
const description = () =>
    z
        .string({ error: (iss) => (iss.input === undefined ? "one line saying what the service is" : DESCRIPTION_ALLOWED) })
        .refine((v) => freeTextProblem(v, { maxLength: 200, minLength: 1 }) === undefined && v === v.trim() && !v.endsWith("\\"), say(DESCRIPTION_ALLOWED));

const UNIT_NAME_ALLOWED = "a unit base name (lowercase letters, digits, '-', '_', at most 63), optionally ending in '.service'";
const RESOURCE_UNIT_NAME_ALLOWED =
    "a unit base name (lowercase letters, digits, '-', '_', at most 63, optional '.service'); the resource name is used when 'unitName' is not given";
const NOT_SHADOWING = "a name that does not shadow a system unit (ssh, dbus, getty, systemd-*, ...); use 'dropIn' to harden a packaged unit";
const unitBaseOf = (v: string) => (v.endsWith(".service") ? v.slice(0, -".service".length) : v);
const unitName = (allowed: string) =>
    z
        .string(say(allowed))
        .refine((v) => UNIT_BASE.test(unitBaseOf(v)), say(allowed))
        .refine((v) => !UNIT_BASE.test(unitBaseOf(v)) || !isProtectedUnitBase(unitBaseOf(v)), say(NOT_SHADOWING));

/** The unit name a service gets from its resource name when `unitName` is not given: the same rule, said so. */
export const systemdResourceUnitName = unitName(RESOURCE_UNIT_NAME_ALLOWED);

const HIDDEN_ALLOWED = "a path outside /proc, /sys, /dev and the credential stores";
const SYSTEM_ALLOWED = "a path outside the system trees (/etc, /usr, /home, /root, /boot, /var and /run themselves, ...); use 'loosen.writablePaths' with a reason";

/** A path a unit setting takes (the shared host path rule); never a kernel interface or a credential store, and with `plainOnly` no system tree. */
function unitPath(plainOnly: boolean) {
    return z.string(say(HOST_PATH_ALLOWED)).superRefine((p, ctx) => {
        if (!isHostPath(p)) problem(ctx, [], p, HOST_PATH_ALLOWED);
        else if (isHiddenTree(p)) problem(ctx, [], p, HIDDEN_ALLOWED);
        else if (plainOnly && isSystemTree(p)) problem(ctx, [], p, SYSTEM_ALLOWED);
    });
}

function paths(plainOnly: boolean, min: number) {
    const allowed = `an array of ${min} to 64 absolute paths`;
    return z.array(unitPath(plainOnly), say(allowed)).min(min, say(allowed)).max(64, say(allowed));
}

function bindPaths(writable: boolean) {
    const allowed = "an array of at most 64 paths or { source, target }";
    const item = z.union([unitPath(writable), record({ source: unitPath(writable), target: unitPath(writable) }, "a path or { source, target }")], say("a path or { source, target }"));
    return z.array(item, say(allowed)).max(64, say(allowed));
}

/** A reason that ends up in a unit comment: the shared reason rule, in words; trimmed. */
const reasonText = () =>
    reasonInWords().transform((v) => v.trim());

/** A non-empty set drawn from `values`, sorted. */
function setOf<const T extends readonly [string, ...string[]]>(values: T) {
    const allowed = `a non-empty list drawn from ${values.join(" ")}`;
    return z
        .array(z.enum(values, say(`one of ${values.join(" ")}`)), say(allowed))
        .min(1, say(allowed))
        .max(values.length, say(allowed))
        .refine((v) => new Set(v).size === v.length, say("distinct entries"))
        .transform((v) => [...v].sort());
}

const withReason = <S extends z.ZodRawShape>(shape: S, what: string, doc: string) => record({ ...shape, reason: reasonText().describe("Why the service needs it; written into the unit as a comment.") }, what).optional().describe(doc);

export const systemdLoosenSchema = record(
    {
        writablePaths: withReason({ paths: paths(false, 1).describe("The paths, system trees allowed.") }, "{ paths, reason }", "Writable paths anywhere, system trees included (`ReadWritePaths=`). @default - none"),
        capabilities: withReason({ caps: setOf(CAPABILITIES).describe("Capability names (`CAP_*`).") }, "{ caps, reason }", "Capabilities kept in the bounding set (and ambient for a non-root user); turns PrivateUsers off. @default - none"),
        addressFamilies: withReason({ families: setOf(ADDRESS_FAMILIES).describe("Address families (`AF_*`).") }, "{ families, reason }", "Address families added to `RestrictAddressFamilies=` (e.g. AF_NETLINK). @default - none"),
        syscallGroups: withReason({ groups: setOf(SYSCALL_GROUPS).describe("Syscall groups (`@*`).") }, "{ groups, reason }", "System call groups allowed again after `~@privileged @resources` (e.g. @setuid, @chown). @default - none"),
        namespaces: withReason({ namespaces: setOf(NAMESPACES).describe("Namespace types.") }, "{ namespaces, reason }", "Namespace types the service may create (`RestrictNamespaces=` becomes this allow list). @default - none"),
        memoryDenyWriteExecute: withReason({}, "{ reason }", "`MemoryDenyWriteExecute=no`, for JIT compilers. @default - denied"),
        privateDevices: withReason({}, "{ reason }", "`PrivateDevices=no` and no DevicePolicy, for hardware access. @default - private /dev"),
        privateUsers: withReason({}, "{ reason }", "`PrivateUsers=no`. @default - private users where the service allows it"),
        protectHome: withReason({}, "{ reason }", "`ProtectHome=read-only` instead of hiding /home, /root and /run/user. @default - hidden"),
        procSubset: withReason({}, "{ reason }", "`ProcSubset=all`: the service sees /proc's system files (e.g. zfs-fuse's `zfs` reads /proc/mounts). @default - pid"),
    },
    "an object of named loosenings",
);

/** Each loosening turns one default off or widens it; its `reason` is written into the unit (and read by the policy pack). */
export type SystemdLoosenings = z.input<typeof systemdLoosenSchema>;
export type ResolvedLoosenings = z.output<typeof systemdLoosenSchema>;

const SECRET_ALLOWED = "a Pulumi secret (config.requireSecret or pulumi.secret); a plain string would be stored in state in clear text";

/** Credentials by name; `value` is what each name maps to (a secret Output here, a secret key name in the site config). */
export function systemdCredentials<V extends z.ZodType>(value: V) {
    return z
        .record(pattern(CRED_NAME, "a credential name of letters, digits, _ . - (starting with a letter or digit, at most 63)"), value, say("a record of credential name -> secret Output<string>"))
        .refine((v) => Object.keys(v).length <= 64, say("at most 64 credentials"));
}

const CALENDAR_ALLOWED = "a systemd calendar expression (systemd.time(7)), e.g. 'daily', 'Mon..Fri 09:00', '*-*-* 03:30:00', '*:0/15'";
const LISTEN_ALLOWED = "a port 1-65535, 'IPv4:port', '[IPv6]:port' or an absolute unix socket path (at most 107 bytes)";

// ---- config files and ordering ---------------------------------------------------------------------------------

/** At most this many bytes (UTF-8) of content per file: configuration, not data. */
export const FILE_MAX_BYTES = 1024 * 1024;
const FILE_CONTENT_ALLOWED = `text of at most ${FILE_MAX_BYTES} bytes (UTF-8) without NUL, or a non-secret Pulumi Output of such text (secrets go in 'credentials')`;
const FILE_TARGET_ALLOWED =
    `a file path of at least two segments (e.g. /etc/radicale/config) by the host path rule, outside /proc, /sys, /dev, the credential stores, /etc/systemd and hearth's own ${HEARTH_ETC}`;

/** Whether a file's content is acceptable text (the rule an Output's value is held to when it resolves). */
export function isFileContent(v: unknown): boolean {
    return typeof v === "string" && !v.includes("\0") && Buffer.byteLength(v, "utf8") <= FILE_MAX_BYTES;
}

export function fileContentProblem(v: unknown): string | undefined {
    return isFileContent(v) ? undefined : FILE_CONTENT_ALLOWED;
}

const under = (p: string, tree: string) => p === tree || p.startsWith(`${tree}/`);

/** Whether a path may be a file's target (the bind's destination inside the service). */
export function isFileTarget(p: unknown): p is string {
    return isHostPath(p) && p.split("/").length >= 3 && !isHiddenTree(p) && !under(p, "/etc/systemd") && !under(p, HEARTH_ETC);
}

const fileTarget = () => z.string(say(FILE_TARGET_ALLOWED)).refine(isFileTarget, say(FILE_TARGET_ALLOWED));

const fileContent = () =>
    documented(
        z.custom<string | Output<string>>().superRefine((v, ctx) => {
            if (isOutput(v)) return; // checked when it resolves: text by the same rule, and never a secret
            if (typeof v !== "string") problem(ctx, [], v, FILE_CONTENT_ALLOWED);
            else if (!isFileContent(v)) problem(ctx, [], v.length > 200 ? `<${Buffer.byteLength(v, "utf8")} bytes>` : v, FILE_CONTENT_ALLOWED);
        }),
        { type: "string | Output<string>" },
    );

/** What a service's file mode refuses (the shared mode rule, core/schema.ts: fileMode): the file is root's, bound read-only. */
export const SERVICE_FILE_MODE: FileModeRules = { special: "a service's config file is never a privileged program", sharedWrite: "the file is root's and only root changes it" };

const FILES_ALLOWED = "an array of at most 64 files { target, content, mode? }";
const files = () =>
    z
        .array(
            record(
                {
                    target: fileTarget().describe("Where the service sees the file (absolute path; the bind's destination)."),
                    content: fileContent().describe("The file's text, or a non-secret Output of it."),
                    mode: fileMode(SERVICE_FILE_MODE).optional().describe("File mode (owner root) as a quoted 4-digit octal string, e.g. \"0640\" (a number is refused): no setuid, setgid or sticky bit, neither group- nor world-writable. @default \"0644\""),
                },
                "a file { target, content, mode? }",
            ),
            say(FILES_ALLOWED),
        )
        .max(64, say(FILES_ALLOWED))
        .superRefine((list, ctx) => {
            const seen = new Set<string>();
            list.forEach((f, i) => {
                if (seen.has(f.target)) problem(ctx, [i, "target"], f.target, "a target no other file of this service has");
                seen.add(f.target);
            });
        });

const DEPENDABLE_ALLOWED = "a hearth component on the service's host that a service can depend on: a SystemdService, ZfsDataset, PostgresDb, HostFile or DebianPackages";

/** A typed reference to another component (components/refs.ts); anything else is shown only by its kind. */
export const dependableArg = () =>
    documented(
        z.unknown().superRefine((v, ctx) => {
            if (!isDependable(v)) {
                const shown = typeof v === "string" || typeof v === "number" || typeof v === "boolean" || v === null ? v : isOutput(v) ? "<Output>" : v === undefined ? undefined : `(${typeof v === "object" ? "an object that is not a hearth component" : `a ${typeof v}`})`;
                ctx.addIssue({ code: "custom", message: DEPENDABLE_ALLOWED, input: shown });
            }
        }) as unknown as z.ZodType<Dependable, Dependable>,
        { type: "SystemdService | ZfsDataset | PostgresDb | HostFile | DebianPackages" },
    );

const DEPS_ALLOWED = "an array of at most 64 components (SystemdService, ZfsDataset, PostgresDb, HostFile, DebianPackages)";
const dependencies = () => z.array(dependableArg(), say(DEPS_ALLOWED)).max(64, say(DEPS_ALLOWED));

/** Ordering on other components, shared by both forms. */
const orderingShape = {
    after: dependencies()
        .optional()
        .describe("Components to start after (`After=` their units, `RequiresMountsFor=` a dataset's mountpoint); a HostFile here joins the restart decision. @default []"),
    requires: dependencies()
        .optional()
        .describe("Components the service needs: `Requires=` and `After=` their units (`RequiresMountsFor=` a dataset's mountpoint). @default []"),
    wants: dependencies().optional().describe("Components the service would like running: `Wants=` and `After=` their units. @default []"),
    files: files()
        .optional()
        .describe(
            `Config files the service reads: each is written to \`${HEARTH_ETC}/<unit>/<target>\` (root-owned) and bound read-only at \`target\` inside the service (\`BindReadOnlyPaths=\`), so the packaged tree stays untouched. A changed file restarts the service, or reloads it with \`execReload\` (the file is then rewritten in place, so the running service's bind sees the new content). @default []`,
        ),
};

const ENV_FILE_ALLOWED = `an absolute path below /etc/ or /usr/ (trees only root writes: the file's variables, LD_PRELOAD included, reach the service), optionally after '-' (optional file): ${HOST_PATH_ALLOWED}; not below the credential stores`;

/** An environment file lives where only root writes: whoever writes it sets the service's environment. */
function isEnvironmentFile(v: string): boolean {
    const p = v.startsWith("-") ? v.slice(1) : v;
    return isHostPath(p) && !isHiddenTree(p) && (p.startsWith("/etc/") || p.startsWith("/usr/"));
}

/** A command line: an argv array whose first word is an absolute program path. */
function argv(_name: string) {
    return z
        .array(plainText(4096, ARG_TEXT, "a plain string of at most 4096 characters without control characters (secrets go in 'credentials')"), say("an argv array of 1 to 256 strings"))
        .min(1, say("an argv array of 1 to 256 strings"))
        .max(256, say("an argv array of 1 to 256 strings"))
        .superRefine((argv, ctx) => {
            if (typeof argv[0] === "string" && !isHostPath(argv[0])) problem(ctx, [0], argv[0], `an absolute program path: ${HOST_PATH_ALLOWED}`);
        });
}

// ---- the arguments -----------------------------------------------------------------------------------------------

/** A directory systemd creates for the service and chowns to its user: the shared rule (core/rules.ts), reserved trees refused. */
const serviceDir = (kind: ServiceDirectoryKind) =>
    z.string(say(serviceDirectoryAllowed(kind))).superRefine((v, ctx) => {
        const why = serviceDirectoryProblem(kind, v);
        if (why !== undefined) problem(ctx, [], v, why);
    });

const RESERVED_DOC = "hearth's own and the system's trees are refused (see Reserved directory names)";

/** Fields a full unit and a drop-in share: hardening, paths, network and limits. */
const sharedShape = {
    stateDirectory: serviceDir("state").optional().describe(`\`StateDirectory=\`: a relative name under /var/lib, kept across restarts and upgrades; ${RESERVED_DOC}. @default - none`),
    cacheDirectory: serviceDir("cache").optional().describe(`\`CacheDirectory=\`: a relative name under /var/cache; ${RESERVED_DOC}. @default - none`),
    runtimeDirectory: serviceDir("runtime").optional().describe(`\`RuntimeDirectory=\`: a relative name under /run, removed when the service stops; ${RESERVED_DOC}. @default - none`),
    logsDirectory: serviceDir("logs").optional().describe(`\`LogsDirectory=\`: a relative name under /var/log; ${RESERVED_DOC}. @default - none`),
    bindPaths: bindPaths(true).optional().describe("Writable bind mounts: a path, or `{ source, target }` (system trees need `loosen.writablePaths` instead). @default []"),
    bindReadOnlyPaths: bindPaths(false).optional().describe("Read-only bind mounts: a path, or `{ source, target }`. @default []"),
    readWritePaths: paths(true, 0).optional().describe("Paths left writable under ProtectSystem=strict (system trees need `loosen.writablePaths`). @default []"),
    network: oneOf(["none", "local", "internet"])
        .optional()
        .describe(
            "`none`: a private network namespace, AF_UNIX only. `local`: IPv4/IPv6 limited to loopback, link-local, multicast, RFC 1918 and ULA addresses. `internet`: IPv4/IPv6 anywhere. @default \"none\"",
        ),
    listenPorts: z
        .array(port(), say("an array of at most 64 ports"))
        .max(64, say("an array of at most 64 ports"))
        .refine((v) => new Set(v).size === v.length, say("distinct ports"))
        .optional()
        .describe("Ports the service binds itself; one below 1024 grants CAP_NET_BIND_SERVICE (and turns PrivateUsers off). @default []"),
    memoryMaxMiB: int(1, 16 * 1024 * 1024).optional().describe("`MemoryMax=` in MiB. @default - no limit"),
    cpuQuotaPercent: int(1, 100000).optional().describe("`CPUQuota=` in percent of one CPU (200 = two CPUs). @default - no limit"),
    tasksMax: int(1, 4194304).optional().describe("`TasksMax=`. @default - systemd's DefaultTasksMax"),
    oomPolicy: oneOf(["kill", "stop", "continue"]).optional().describe("What systemd does when the kernel OOM-kills a process of the service; always written. @default \"kill\""),
    loosen: systemdLoosenSchema.optional().describe("Explicit, explained loosenings of the default sandbox. @default {}"),
    hostname: pattern(DNS_NAME, "a lowercase DNS name (labels of a-z, 0-9, '-', at most 253 characters)").optional().describe("DNS name the service answers on (used by DNS records; not written to the unit). @default - none"),
};

const HOST_DOC = "The machine the service runs on.";
const ENABLE_DOC =
    "Enable and start it (for a timer or socket: the timer or socket); `false` keeps it installed, disabled and stopped. For a drop-in, `false` leaves the packaged unit's enablement alone and only restarts it where it runs. @default true (false for a drop-in)";

/** A full unit hearth writes: its own command, identity, restart policy, timer or socket. */
export const systemdServiceShape = {
    host: hostArg().describe(HOST_DOC),
    unitName: unitName(UNIT_NAME_ALLOWED).optional().describe("Unit name, with or without `.service` (lowercase letters, digits, `-`, `_`; no template `@`). @default - the resource name"),
    description: description().describe("One line saying what the service is."),
    execStart: argv("execStart").describe("The command as an argv array; `execStart[0]` is an absolute path."),
    environment: z
        .record(pattern(ENV_NAME, "a variable name matching [A-Z_][A-Z0-9_]*"), plainText(4096, ARG_TEXT, "a plain string; secrets go in 'credentials', never in Environment="), say("a record of NAME -> string"))
        .superRefine((env, ctx) => {
            for (const k of Object.keys(env)) if (RESERVED_ENV.test(k)) problem(ctx, [k], k, "a name not reserved by systemd or the dynamic loader (LD_*, CREDENTIALS_DIRECTORY, LISTEN_FDS, ...)");
        })
        .optional()
        .describe("Plain environment variables (names `[A-Z_][A-Z0-9_]*`). Secrets go in `credentials`. @default {}"),
    user: systemdEither(
        (u) => isObject(u) && "dynamic" in u,
        record({ dynamic: z.literal(true, say("true")) }, "a user: { dynamic: true } or { name, reason }"),
        record(
            {
                name: pattern(POSIX_USER, POSIX_USER_ALLOWED).refine((n) => n !== "root", say("a non-root user; running as root needs 'runAsRoot: { reason }'")),
                reason: reasonText(),
            },
            "a user: { dynamic: true } or { name, reason }",
        ),
    )
        .optional()
        .describe("Who the service runs as: a transient dynamic user, or a named system user (which needs a reason). @default { dynamic: true }"),
    runAsRoot: record({ reason: reasonText() }, "{ reason }").optional().describe("Run as root. Only with a written reason; root still gets an empty capability bounding set. @default - not root"),
    ...sharedShape,
    restart: oneOf(["on-failure", "always", "no"]).optional().describe("`Restart=`. @default \"on-failure\" (\"no\" for a timer job)"),
    restartSec: int(0, 3600).optional().describe("`RestartSec=` in seconds. @default 5"),
    credentials: systemdCredentials(secretArg(SECRET_ALLOWED))
        .optional()
        .describe(
            "Secrets, by credential name: each must be a Pulumi secret. Delivered over stdin into `/etc/credstore/<unit>/<name>` (0600 root) and handed to the service with `LoadCredential=`; the service reads `$CREDENTIALS_DIRECTORY/<name>`. @default {}",
        ),
    timer: record(
        {
            onCalendar: z.string(say(CALENDAR_ALLOWED)).refine(isCalendarExpression, say(CALENDAR_ALLOWED)).describe("`OnCalendar=`, e.g. `daily`, `Mon..Fri 09:00`, `*:0/15`."),
            persistent: bool().optional().describe("Catch up a run missed while the host was off. @default true"),
            randomizedDelaySec: int(0, 7 * 86400).optional().describe("Spread start times by up to this many seconds. @default 0"),
        },
        "a timer",
    )
        .optional()
        .describe("Run as a job on a schedule (a `.timer`; the service becomes Type=oneshot and is not enabled itself). @default - no timer"),
    socket: record(
        {
            listenStream: z
                .custom<string | number>()
                .refine((v) => parseListenStream(v) !== undefined, say(LISTEN_ALLOWED))
                .describe("A port, `address:port` (`[v6]:port`), or an absolute unix socket path."),
            idleStopSec: int(1, 86400).describe("Seconds without a connection before the app is stopped."),
            targetPort: port().describe("The port the app listens on at 127.0.0.1 (inside its own network namespace when network is \"none\")."),
        },
        "a socket",
    )
        .optional()
        .describe(
            "Socket activation that scales to zero: systemd listens on `listenStream`; the first connection starts a `systemd-socket-proxyd` that starts the app and forwards to 127.0.0.1:`targetPort`; after `idleStopSec` without a connection the proxy exits and the app is stopped. @default - no socket",
        ),
    dropIn: z.undefined().optional().describe("Absent for a full unit (see the drop-in form)."),
    startWhenExists: z
        .string(say(HOST_PATH_ALLOWED))
        .refine(isHostPath, say(HOST_PATH_ALLOWED))
        .optional()
        .describe("Start only once this file exists (`ConditionPathExists=`): until then a start is skipped, not failed. For a service whose configuration another component writes after the unit (knotd and its zone). @default - always start"),
    type: oneOf(["simple", "exec", "notify", "oneshot"])
        .optional()
        .describe("`Type=`: `notify` for a daemon that reports readiness (sd_notify), `oneshot` for a job (kept active after it exits, so a re-run does not start it again). @default \"exec\" (\"oneshot\" for a timer job)"),
    execReload: argv("execReload").optional().describe("`ExecReload=` as an argv array (`execReload[0]` absolute): with it, a change of \`files\` or of a HostFile the service references (\`after\`/\`requires\`/\`wants\`) reloads the service instead of restarting it; changed credentials or unit still restart it. @default - none (a change restarts)"),
    workingDirectory: unitPath(false).optional().describe("`WorkingDirectory=`: an absolute path (it must exist when the service starts). @default - /"),
    environmentFile: z
        .string(say(ENV_FILE_ALLOWED))
        .refine(isEnvironmentFile, say(ENV_FILE_ALLOWED))
        .optional()
        .describe("`EnvironmentFile=`: an absolute path below /etc/ or /usr/ of `NAME=value` lines read at start; a leading `-` makes it optional (a missing file is not an error). @default - none"),
    ...orderingShape,
    enable: bool().optional().describe(ENABLE_DOC),
};

/** A drop-in over a packaged unit: hardening and limits only; the packaged unit keeps its command, identity and restart policy. */
export const systemdDropInShape = {
    host: hostArg().describe(HOST_DOC),
    dropIn: record(
        {
            unit: pattern(PACKAGED_SERVICE, "a packaged service unit name ending in '.service' (e.g. 'nginx.service', 'postgresql@15-main.service')").describe("The packaged unit, e.g. `nginx.service`."),
            name: pattern(DROP_IN_NAME, "a drop-in name (lowercase letters, digits, _ . -, no '.conf')")
                .refine((n) => !n.endsWith(".conf"), say("a name without the '.conf' suffix (hearth adds it)"))
                .optional()
                .describe("Drop-in file name without `.conf`. @default \"50-hearth\""),
        },
        "{ unit, name? }",
    ).describe("Write a drop-in over a packaged unit (hardening and limits only) instead of a full unit."),
    unitName: absent(DROP_IN_KEEPS),
    description: description().optional().describe("One line saying what the drop-in is for (a comment in it). @default - none"),
    execStart: absent(DROP_IN_KEEPS),
    environment: absent(DROP_IN_KEEPS),
    user: absent(DROP_IN_KEEPS),
    runAsRoot: absent(DROP_IN_KEEPS),
    ...sharedShape,
    restart: absent(DROP_IN_KEEPS),
    restartSec: absent(DROP_IN_KEEPS),
    credentials: absent(DROP_IN_KEEPS, "<credentials>"),
    timer: absent(DROP_IN_KEEPS),
    socket: absent(DROP_IN_KEEPS),
    startWhenExists: absent("no value with 'dropIn' (the packaged unit decides when it starts)"),
    type: absent(DROP_IN_KEEPS),
    execReload: absent(DROP_IN_KEEPS),
    workingDirectory: absent(DROP_IN_KEEPS),
    environmentFile: absent(DROP_IN_KEEPS),
    ...orderingShape,
    enable: bool().optional().describe(ENABLE_DOC),
};

const fullRecord = record(systemdServiceShape, "SystemdServiceArgs");
const dropInRecord = record(systemdDropInShape, "SystemdServiceArgs");
type Full = z.output<typeof fullRecord>;
type DropIn = z.output<typeof dropInRecord>;

/** What a full unit's arguments must agree on among themselves. */
export function checkSystemdService(v: Omit<Full, "host" | "credentials">, ctx: z.RefinementCtx): void {
    if (v.user !== undefined && v.runAsRoot !== undefined) problem(ctx, ["runAsRoot"], v.runAsRoot, "not both 'user' and 'runAsRoot'");
    const network = v.network ?? "none";
    const ports = v.listenPorts ?? [];
    if (ports.length && network === "none") {
        problem(ctx, ["listenPorts"], v.listenPorts, "no ports with network 'none' (a private network namespace); use network 'local' or 'internet', or 'socket'");
    }
    if (v.timer !== undefined && v.socket !== undefined) problem(ctx, ["socket"], v.socket, "not both 'timer' and 'socket'");
    else if (v.socket !== undefined) {
        const listen = parseListenStream(v.socket.listenStream);
        if (listen && listen.kind !== "unix" && network !== "none" && listen.port === v.socket.targetPort) {
            problem(ctx, ["socket", "targetPort"], v.socket.targetPort, "a port other than the socket's own when the app shares the host network");
        }
        if (ports.length) problem(ctx, ["listenPorts"], v.listenPorts, "no ports with 'socket' (the socket unit listens; the app listens on socket.targetPort)");
    }
    // systemd refuses to load a oneshot unit that restarts on success.
    if (v.timer !== undefined && v.restart === "always") problem(ctx, ["restart"], v.restart, "'on-failure' or 'no' for a timer job (a oneshot service)");
    if (v.timer === undefined && v.type === "oneshot" && v.restart === "always") problem(ctx, ["restart"], v.restart, "'on-failure' or 'no' for a oneshot service");
    if (v.timer !== undefined && v.type !== undefined && v.type !== "oneshot") problem(ctx, ["type"], v.type, "\"oneshot\" (or no type) for a timer job");
    if (v.socket !== undefined && v.type === "oneshot") problem(ctx, ["type"], v.type, "a long-running type (\"exec\", \"simple\" or \"notify\") for a socket-activated service");
    if (v.execReload !== undefined && v.timer !== undefined) problem(ctx, ["execReload"], v.execReload, "no execReload for a timer job (each run reads its files afresh)");
    if (v.execReload !== undefined && v.socket !== undefined) problem(ctx, ["execReload"], v.execReload, "no execReload for a socket-activated service (a change stops it; the next connection starts it afresh)");
}

/**
 * A drop-in over the SSH daemon, journald, logind, D-Bus, networkd or resolved may harden the unit but not cut it
 * off. Its network lines come from `network` alone (a drop-in has no socket): "none" writes PrivateNetwork=yes and
 * RestrictAddressFamilies=AF_UNIX, "local" writes IPAddressDeny=any; only "internet" keeps AF_UNIX, AF_INET and
 * AF_INET6 with no IP filter (loosen.addressFamilies only adds families). hearth never restarts these units
 * (script.ts): the drop-in applies at their next restart.
 */
export function checkSystemdDropIn(v: Omit<DropIn, "host" | "credentials">, ctx: z.RefinementCtx): void {
    const unit = v.dropIn.unit;
    if (!isLifelineUnit(unit)) return;
    for (const k of ["files", "after", "requires", "wants"] as const) {
        if (v[k] !== undefined && v[k].length > 0) problem(ctx, [k], k === "files" ? v[k].map((f) => f.target) : v[k].map((d) => d.dependency.label), `nothing for a drop-in over ${unit}, which hearth may harden but never cut off or hold back`);
    }
    const network = v.network ?? "none";
    const allowed = `"internet" for a drop-in over ${unit}, which hearth may harden but never cut off`;
    if (network === "none") problem(ctx, ["network"], network, `${allowed} ("none", the default, writes PrivateNetwork=yes and drops AF_INET/AF_INET6)`);
    if (network === "local") problem(ctx, ["network"], network, `${allowed} ("local" writes IPAddressDeny=any)`);
}

/** A full unit, or a drop-in when `dropIn` is given. */
export const isSystemdDropIn = (v: unknown): boolean => isObject(v) && v.dropIn !== undefined;

export const SystemdServiceArgsSchema = systemdEither(
    isSystemdDropIn,
    dropInRecord.superRefine(checkSystemdDropIn),
    fullRecord.superRefine(checkSystemdService),
);

/** A SystemdService's arguments: a full unit (`description`, `execStart`) or a drop-in over a packaged unit (`dropIn`). */
export type SystemdServiceArgs = z.input<typeof SystemdServiceArgsSchema>;
/** A full unit's arguments (the type of the first form). */
export type SystemdFullServiceArgs = z.input<typeof fullRecord>;
/** A drop-in's arguments (the type of the second form). */
export type SystemdDropInArgs = z.input<typeof dropInRecord>;
/** The arguments without `host` (either form), for a service described once and placed on a host later. */
export type SystemdServiceFields = SystemdServiceArgs extends infer T ? (T extends unknown ? Omit<T, "host"> : never) : never;
/** A bind mount: the host `source` appears at `target` inside the service (same path when a plain string). */
export type SystemdBindPath = NonNullable<SystemdServiceArgs["bindPaths"]>[number];
