// The pack's policies over planned resources, as `pulumi preview --policy-pack` runs them but without the engine or
// the pack's gRPC server: what the offline plan reports (enforcement levels, waivers that applied).
import type { EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { policies } from "./all";
import { HearthPolicySpec, matchingWaivers, resolveConfig } from "./lib/policy";

/** The level every policy of the pack gets unless it sets its own (index.ts registers the pack with it). */
export const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "mandatory";

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

/** One resource a program registered: its parent as `type/name`, its inputs with secrets already unwrapped. */
export interface PlannedResourceInput {
    readonly type: string;
    readonly name: string;
    readonly parent?: string;
    readonly inputs: Record<string, any>;
}

export interface PolicyViolation {
    readonly policy: string;
    readonly level: EnforcementLevel;
    readonly resource: string;
    readonly urn: string;
    readonly message: string;
}

/** A waiver that silenced findings: who it names, why, and what it silenced. */
export interface AppliedWaiver {
    readonly policy: string;
    readonly resource: string;
    readonly waiver: string;
    readonly reason: string;
    readonly findings: readonly string[];
}

export interface PolicyReport {
    readonly violations: readonly PolicyViolation[];
    readonly waivers: readonly AppliedWaiver[];
    /** Each policy's effective level under the config. */
    readonly levels: Readonly<Record<string, EnforcementLevel>>;
}

/**
 * A policy-pack config as `--policy-pack-config` takes it: `{ "all": LEVEL | { enforcementLevel }, "<policy>": LEVEL |
 * { enforcementLevel?, ...properties } }`. Returns the problems with it (unknown policy names, unknown levels).
 */
export function checkPackConfig(config: unknown): string[] {
    if (config === null || typeof config !== "object" || Array.isArray(config)) return [`the policy config must be a JSON object, got ${JSON.stringify(config)}`];
    const names = new Set(policies.map((p) => p.name));
    const problems: string[] = [];
    for (const [k, v] of Object.entries(config as Record<string, unknown>)) {
        if (k !== "all" && !names.has(k)) problems.push(`'${k}' is not a policy of this pack (policies: all, ${[...names].join(", ")})`);
        const level = typeof v === "string" ? v : v && typeof v === "object" ? (v as any).enforcementLevel : undefined;
        if (typeof v !== "string" && (v === null || typeof v !== "object" || Array.isArray(v))) problems.push(`'${k}' must be an enforcement level or an object, got ${JSON.stringify(v)}`);
        else if (level !== undefined && !LEVELS.includes(level)) problems.push(`'${k}' has enforcement level ${JSON.stringify(level)}: expected one of ${LEVELS.join(", ")}`);
    }
    return problems;
}

/** The level a policy runs at: its entry in the config, then `all`, then its own, then the pack's. */
export function effectiveLevel(policy: ResourceValidationPolicy, config: Record<string, unknown>): EnforcementLevel {
    const levelIn = (v: unknown): EnforcementLevel | undefined => (typeof v === "string" ? (v as EnforcementLevel) : v && typeof v === "object" ? (v as any).enforcementLevel : undefined);
    return levelIn(config[policy.name]) ?? levelIn(config.all) ?? policy.enforcementLevel ?? PACK_ENFORCEMENT_LEVEL;
}

/** The properties a policy's `getConfig()` returns: its entry's properties, without the level. */
function propertiesOf(policy: ResourceValidationPolicy, config: Record<string, unknown>): Record<string, unknown> {
    const entry = config[policy.name];
    if (!entry || typeof entry !== "object") return {};
    const { enforcementLevel: _level, ...rest } = entry as Record<string, unknown>;
    return rest;
}

/** The URN of each resource, with the parent type chain the engine puts in it. */
function urnsOf(resources: readonly PlannedResourceInput[], project: string, stack: string): Map<PlannedResourceInput, string> {
    const byKey = new Map(resources.map((r) => [`${r.type}/${r.name}`, r]));
    const chain = (r: PlannedResourceInput, depth = 0): string[] => {
        const p = r.parent ? byKey.get(r.parent) : undefined;
        return p && p.type !== "pulumi:pulumi:Stack" && depth < 64 ? [...chain(p, depth + 1), r.type] : [r.type];
    };
    return new Map(resources.map((r) => [r, `urn:pulumi:${stack}::${project}::${chain(r).join("$")}::${r.name}`]));
}

function validationArgs(r: PlannedResourceInput, urn: string, parentUrn: string | undefined, properties: Record<string, unknown>): ResourceValidationArgs {
    return {
        type: r.type,
        props: structuredClone(r.inputs),
        urn,
        name: r.name,
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [], parent: parentUrn },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => structuredClone(properties) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

class NotApplicable extends Error {}

/** Runs every policy of the pack over the resources, one validation per resource and policy, as the engine does. */
export async function evaluatePolicies(resources: readonly PlannedResourceInput[], opts: { project: string; stack: string; config?: Record<string, unknown> }): Promise<PolicyReport> {
    const config = opts.config ?? {};
    const problems = checkPackConfig(config);
    if (problems.length > 0) throw new Error(`the policy config is not valid:\n  ${problems.join("\n  ")}`);
    const urnOf = urnsOf(resources, opts.project, opts.stack);
    const byKey = new Map(resources.map((r) => [`${r.type}/${r.name}`, r]));
    const levels: Record<string, EnforcementLevel> = {};
    const violations: PolicyViolation[] = [];
    const waivers: AppliedWaiver[] = [];
    for (const policy of policies as ResourceValidationPolicy[]) {
        const level = effectiveLevel(policy, config);
        levels[policy.name] = level;
        if (level === "disabled") continue;
        const properties = propertiesOf(policy, config);
        const validations = Array.isArray(policy.validateResource) ? policy.validateResource : policy.validateResource ? [policy.validateResource] : [];
        const spec = (policy as { spec?: HearthPolicySpec<Record<string, unknown>> }).spec;
        for (const r of resources) {
            if (r.type === "pulumi:pulumi:Stack") continue;
            const urn = urnOf.get(r)!;
            const parent = r.parent ? byKey.get(r.parent) : undefined;
            const parentUrn = parent && parent.type !== "pulumi:pulumi:Stack" ? urnOf.get(parent) : undefined;
            const args = validationArgs(r, urn, parentUrn, properties);
            for (const validate of validations) {
                try {
                    await validate(args, (message: string) => violations.push({ policy: policy.name, level, resource: r.name, urn, message }));
                } catch (e) {
                    if (!(e instanceof NotApplicable)) throw e;
                }
            }
            // What a waiver silenced: the rule's findings on this resource, had no waiver named it.
            if (spec && spec.types.includes(r.type)) {
                const resolved = resolveConfig(spec, properties);
                const { valid } = matchingWaivers(resolved.waivers, args);
                if (valid.length === 0) continue;
                const findings: string[] = [];
                spec.check({ type: r.type, name: r.name, urn, props: args.props, parent: parentUrn, config: resolved, report: (m) => findings.push(m) });
                if (findings.length > 0) waivers.push({ policy: policy.name, resource: r.name, waiver: valid[0].resource, reason: valid[0].reason!, findings });
            }
        }
    }
    return { violations, waivers, levels };
}

/** The violations that fail a preview (and so the plan). */
export function mandatory(report: PolicyReport): PolicyViolation[] {
    return report.violations.filter((v) => v.level === "mandatory");
}
