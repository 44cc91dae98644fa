// Site config for services: SystemdService's own schema, with the host named (a host or container of the site), a
// resource name, and credentials given as the names of secret config keys. Every other key, its limits and its
// cross-field checks are the component's, so a new argument is a config key the day it is added.
import { z } from "zod";
import { ArgumentError, checkSystemdDropIn, checkSystemdService, htpasswdLine, isSystemdDropIn, rules, systemdCredentials, systemdDropInShape, systemdEither, systemdResourceUnitName, systemdServiceShape } from "../../components";
import { secretKey } from "./fields";

const { label, list, problem, record } = rules;

/** The sections a service may name in `after`/`requires`/`wants`, by the key a reference uses. */
export const DEPENDENCY_SECTIONS = { service: "services", dataset: "datasets", database: "databases", file: "files", packages: "packages" } as const;
export type DependencyKind = keyof typeof DEPENDENCY_SECTIONS;

const REF_ALLOWED = "a reference by name to an entry on the same host: { service: <name> }, { dataset: <name> }, { database: <name> }, { file: <name> } or { packages: <name> }";
const DEPS_ALLOWED = "an array of at most 64 references ({ service | dataset | database | file | packages: <name> })";

/** `{ dataset: "radicale-data" }`: exactly one key, naming an entry of that section (checked across sections later). */
export const dependencyRef = () =>
    z.partialRecord(z.enum(Object.keys(DEPENDENCY_SECTIONS) as [DependencyKind, ...DependencyKind[]]), label(), rules.say(REF_ALLOWED)).superRefine((v, ctx) => {
        if (Object.keys(v).length !== 1) problem(ctx, [], v, REF_ALLOWED);
    }) as unknown as z.ZodType<DependencyRef, DependencyRef>;
export type DependencyRef = Partial<Record<DependencyKind, string>>;

/** The kind and name of a checked reference. */
export function refTarget(r: DependencyRef): { kind: DependencyKind; name: string } {
    const [kind, name] = Object.entries(r)[0] as [DependencyKind, string];
    return { kind, name };
}

const dependencies = () => list(dependencyRef(), DEPS_ALLOWED, 64);

/** The sections whose entries take `dependsOn` (the entries a reference can name). */
export const DEPENDS_ON_SECTIONS = Object.values(DEPENDENCY_SECTIONS);

/**
 * `dependsOn`: entries of the site, on any host, created before this one (Pulumi `dependsOn` on the component and on
 * every remote command it registers; a delete of this entry runs before theirs). It orders deployments only: what a
 * service's systemd orders its start after is `after`/`requires`/`wants`.
 */
export const dependsOnField = () =>
    dependencies()
        .optional()
        .describe(
            "Entries of the site (on any host) to create before this one, by name: `{ service | dataset | database | file | packages: <name> }`. Pulumi `dependsOn`: every remote command of this entry waits for theirs, and on delete runs before theirs. It does not order a service's start (that is `after`/`requires`/`wants`). @default []",
        );

/** The config's references where the component takes components; its checks then see what each names. */
const ordering = {
    after: dependencies().optional().describe(`${systemdServiceShape.after.description ?? ""} By name: \`{ service | dataset | database | file | packages: <name> }\` on the same host.`),
    requires: dependencies().optional().describe(`${systemdServiceShape.requires.description ?? ""} By name, as in \`after\`.`),
    wants: dependencies().optional().describe(`${systemdServiceShape.wants.description ?? ""} By name, as in \`after\`.`),
};

/** A reference as the component's own checks see it: a component with a label. */
function asComponents<T extends { after?: DependencyRef[]; requires?: DependencyRef[]; wants?: DependencyRef[] }>(v: T): any {
    // Refinements run even when a reference itself failed (reported at its own path): such a one is just "a reference".
    const label = (r: unknown) => {
        const e = r && typeof r === "object" ? Object.entries(r) : [];
        return e.length === 1 && e[0][0] in DEPENDENCY_SECTIONS ? `${e[0][0]} '${String(e[0][1])}'` : "a reference";
    };
    const view = (refs?: DependencyRef[]) => (Array.isArray(refs) ? refs.map((r) => ({ dependency: { label: label(r) } })) : undefined);
    return { ...v, after: view(v.after), requires: view(v.requires), wants: view(v.wants) };
}

/** An htpasswd credential: one line per user, each hashed from the password in a secret config key. */
const HTPASSWD_USERS_ALLOWED = "an array of 1 to 100 { user, password } (password: the name of a secret config key)";
export const htpasswdCredential = () =>
    record(
        {
            htpasswd: list(
                record(
                    {
                        user: z
                            .string(rules.say("an htpasswd user name"))
                            .superRefine((u, ctx) => {
                                // The user rule is htpasswdLine's own (checked with a stand-in password).
                                try {
                                    htpasswdLine(u, "-");
                                } catch (e) {
                                    if (!(e instanceof ArgumentError)) throw e;
                                    ctx.addIssue({ code: "custom", message: e.allowed, input: u });
                                }
                            })
                            .describe("The user name."),
                        password: secretKey().describe("The name of the secret config key holding the user's password."),
                    },
                    "an htpasswd user",
                ),
                HTPASSWD_USERS_ALLOWED,
                100,
                1,
            ),
        },
        "an htpasswd credential",
    ).superRefine((v, ctx) => {
        // Two lines for one user: the file would hold two passwords for it, and which one counts is the reader's guess.
        const seen = new Map<string, number>();
        v.htpasswd.forEach((u, i) => {
            const first = seen.get(u.user);
            if (first !== undefined) problem(ctx, ["htpasswd", i, "user"], u.user, `a user not listed before (htpasswd[${first}] has it)`);
            else seen.set(u.user, i);
        });
    });
export type HtpasswdCredential = z.infer<ReturnType<typeof htpasswdCredential>>;

const CREDENTIAL_ALLOWED = "the name of a secret config key, or { htpasswd: [{ user, password: <secret config key> }] }";
const credentialValue = () =>
    z.union([secretKey(), htpasswdCredential()], {
        error: (iss) => (typeof (iss as { input?: unknown }).input === "string" ? undefined : CREDENTIAL_ALLOWED),
    });

const placed = {
    name: label().describe("Resource and (unless `unitName` is given) unit name."),
    host: label("the name of a host in hearth:hosts").describe("Name of the host in `hearth:hosts` (or the container in `hearth:containers`) it runs on."),
};

/** The unit name a service takes from its `name` when `unitName` is not given, checked as the component checks it. */
function checkUnitNameFromName(v: { name: string; unitName?: string }, ctx: z.RefinementCtx): void {
    if (v.unitName !== undefined) return;
    const r = systemdResourceUnitName.safeParse(v.name);
    if (!r.success) problem(ctx, ["unitName"], v.name, r.error.issues[0].message);
}

const fullService = record(
    {
        ...placed,
        ...systemdServiceShape,
        host: placed.host,
        ...ordering,
        dependsOn: dependsOnField(),
        credentials: systemdCredentials(credentialValue())
            .optional()
            .describe(
                "Credential name to the name of the secret config key holding its value, or to `{ htpasswd: [{ user, password }] }`: an htpasswd file, one stable `$apr1$` line per user hashed from the password in that secret config key (the salt is derived from the password and the user, so an unchanged password gives an unchanged file). @default {}",
            ),
    },
    "a service",
).superRefine((v, ctx) => {
    checkSystemdService(asComponents(v), ctx);
    checkUnitNameFromName(v, ctx);
});

const dropIn = record({ ...placed, ...systemdDropInShape, host: placed.host, ...ordering, dependsOn: dependsOnField() }, "a service").superRefine((v, ctx) => checkSystemdDropIn(asComponents(v), ctx));

export const serviceSchema = systemdEither(isSystemdDropIn, dropIn, fullService);

export type ServiceConfig = z.output<typeof serviceSchema>;
export const servicesSchema = list(serviceSchema, "a list of services", 2000);
