// The typed site config (`Pulumi.<site>.yaml`): one zod schema per `hearth:` key, cross-checks, and errors that name the key path.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { describe, HIDDEN, isSecretName, rules } from "../components";
import { SECRET_KEY } from "./config/fields";
import { DEFAULT_SSH_KEY, hostsSchema } from "./config/hosts";
import { servicesSchema } from "./config/services";
import { packagesSchema } from "./config/packages";
import { filesSchema } from "./config/files";
import { datasetsSchema } from "./config/datasets";
import { databasesSchema } from "./config/databases";
import { containersSchema } from "./config/containers";
import { wireguardSchema } from "./config/wireguard";
import { zonesSchema } from "./config/zones";
import { crossCheck, secretKeyProblems, secretRefs, setSecretCommand } from "./config/refs";

/** Every structured key a site may set, in the order a reader meets them. */
export const SITE_SECTIONS = {
    hosts: hostsSchema,
    packages: packagesSchema.optional(),
    files: filesSchema.optional(),
    services: servicesSchema.optional(),
    datasets: datasetsSchema.optional(),
    databases: databasesSchema.optional(),
    containers: containersSchema.optional(),
    wireguard: wireguardSchema.optional(),
    zones: zonesSchema.optional(),
};

const siteSchema = z.object(SITE_SECTIONS);

export type SiteConfig = z.infer<typeof siteSchema>;

/** One thing wrong with the config. */
export interface ConfigProblem {
    /** Key path as a user writes it: `hearth:services[2].memoryMaxMiB`. */
    readonly path: string;
    readonly message: string;
}

/** What the site program knows about its config: every key of the namespace, and which were set as secrets. */
export interface RawSiteConfig {
    /** Bare key (`services`) to its value (structured values already parsed from JSON). */
    readonly values: Readonly<Record<string, unknown>>;
    /** Keys set with `--secret`; undefined when the runtime cannot tell. */
    readonly secretKeys?: ReadonlySet<string>;
}

/**
 * Validates a site's config and returns it typed, or throws one `pulumi.ResourceError` listing every problem,
 * each naming the key path, the bad value and what is allowed. Runs before any resource exists.
 */
export function parseSiteConfig(raw: RawSiteConfig, namespace = "hearth"): SiteConfig {
    const problems = checkSiteConfig(raw, namespace);
    if (problems.ok) return problems.site;
    throw new pulumi.ResourceError(formatProblems(problems.problems), undefined);
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
    const head = problems.length === 1 ? "The site config has 1 error:" : `The site config has ${problems.length} errors:`;
    return [head, ...problems.map((p) => `  '${p.path}' ${p.message}`)].join("\n");
}

export function checkSiteConfig(raw: RawSiteConfig, namespace = "hearth"): { ok: true; site: SiteConfig } | { ok: false; problems: ConfigProblem[] } {
    const problems: ConfigProblem[] = [];
    const sections: Record<string, unknown> = {};
    const loose = new Set<string>();
    for (const [key, value] of Object.entries(raw.values)) {
        if (key in SITE_SECTIONS) sections[key] = value;
        else loose.add(key);
    }
    const parsed = siteSchema.safeParse(sections, { reportInput: true });
    // A section set as a secret is refused below; its values are never shown in a problem either.
    const hidden = (path: readonly PropertyKey[]) => raw.secretKeys?.has(String(path[0])) ?? false;
    if (!parsed.success) {
        for (const issue of parsed.error.issues) problems.push(...toProblems(issue, namespace, hidden(issue.path)));
    } else {
        for (const issue of crossCheck(parsed.data)) problems.push({ path: keyPath(namespace, issue.path), message: `${shown(hidden(issue.path) ? HIDDEN : issue.input)}: expected ${issue.message}` });
    }
    // A section holds plain values only: a secret set inside one (`pulumi config set --secret --path ...`) would be
    // written into unit files, scripts and state in clear. Secrets live in their own keys, named by the config.
    for (const key of Object.keys(sections)) {
        if (raw.secretKeys?.has(key)) {
            problems.push({
                path: `${namespace}:${key}`,
                message: `holds a secret value: expected plain values only (a secret goes in its own key, set with ${setSecretCommand(namespace, "<key>")}, and the config names that key, e.g. credentials: { token: <key> })`,
            });
        }
    }
    // Every other key must be a secret something refers to: a typo such as `hearth:service` must not be ignored.
    const refs = secretRefs(sections, namespace);
    for (const key of [...loose].sort()) {
        if (!refs.has(key) && !(key === DEFAULT_SSH_KEY)) {
            problems.push({
                path: `${namespace}:${key}`,
                message: `is not a known key: expected one of ${Object.keys(SITE_SECTIONS).map((k) => `${namespace}:${k}`).join(", ")}, or a secret that the config names (e.g. a host's sshKey)`,
            });
        }
    }
    problems.push(...secretKeyProblems(refs, raw, namespace, (key) => SECRET_KEY.test(key)));
    problems.sort((a, b) => a.path.localeCompare(b.path));
    if (problems.length > 0 || !parsed.success) return { ok: false, problems };
    return { ok: true, site: parsed.data };
}

function toProblems(issue: z.core.$ZodIssue, namespace: string, hide = false): ConfigProblem[] {
    if (issue.code === "invalid_union") {
        // When one option's type matched and only something inside it failed, name that (as the components do).
        const inner = rules.matchedOption(issue.errors);
        if (inner) return inner.flatMap((i) => toProblems({ ...i, path: [...issue.path, ...i.path] } as z.core.$ZodIssue, namespace, hide));
    }
    const at = keyPath(namespace, issue.path);
    let input = hide ? HIDDEN : (issue as { input?: unknown }).input;
    // A discriminated union reports at its discriminator (`backend.kind`) but carries the whole object.
    const last = issue.path[issue.path.length - 1];
    if (issue.code === "invalid_union" && typeof last === "string" && input && typeof input === "object" && last in input) input = (input as Record<string, unknown>)[last];
    if (issue.path.some((p) => isSecretName(p as string)) && typeof input !== "boolean") input = input === undefined ? undefined : HIDDEN;
    if (issue.code === "unrecognized_keys") {
        return issue.keys.map((k) => ({ path: keyPath(namespace, [...issue.path, k]), message: `is not a known key: expected ${issue.message}` }));
    }
    if (issue.code === "invalid_key") {
        // The record's own message describes the whole mapping; the key's schema says what a key may be.
        const inner = issue.issues[0]?.message ?? issue.message;
        return [{ path: at, message: `is not an allowed name: expected ${inner}` }];
    }
    return [{ path: at, message: `${shown(input)}: expected ${issue.message}` }];
}

function shown(input: unknown): string {
    return input === undefined ? "is missing" : `is ${describe(input)}`;
}

/** `hearth:services[2].environment["A B"]`: the path as a user would find it in the YAML. */
export function keyPath(namespace: string, path: readonly PropertyKey[]): string {
    let out = `${namespace}:${String(path[0] ?? "")}`;
    for (const p of path.slice(1)) {
        if (typeof p === "number") out += `[${p}]`;
        else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(p))) out += `.${String(p)}`;
        else out += `[${JSON.stringify(String(p))}]`;
    }
    return out;
}
