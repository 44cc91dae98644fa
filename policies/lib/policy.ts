// The shape every hearth policy shares: resource types it looks at, config with defaults, waivers with reasons.
//
// A policy file describes its rule as a `check` that reports findings; this wrapper turns it into a Pulumi
// ResourceValidationPolicy that applies the policy's config defaults, honours waivers that carry a reason, and
// reports a waiver without one as a violation of its own.
import type {
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { isReason, REASON_RULE } from "./reason";
import type { PropsOf, TypedResource } from "./props";

/** A waiver: the resource (its name, its URN, or its parent's name or URN) and why the rule does not apply to it. */
export interface Waiver {
    readonly resource: string;
    readonly reason?: string;
}

export interface WaiverConfig {
    readonly waivers: readonly Waiver[];
}

/** What a policy's remediation sees: the resource (its props typed by its type), and its config with defaults applied. */
export type ResourceArgs<C, T extends string = string> = TypedResource<T> & {
    readonly name: string;
    readonly urn: string;
    /** URN of the parent resource, when there is one. */
    readonly parent?: string;
    readonly config: C & WaiverConfig;
};

/** What a policy's check sees: the resource and its config, and a way to report findings. */
export type CheckArgs<C, T extends string = string> = ResourceArgs<C, T> & {
    /** Reports one finding; it becomes a violation unless a waiver with a reason covers the resource. */
    report(message: string): void;
};

type ConfigProperty = PolicyConfigJSONSchema & { default: unknown };

export interface HearthPolicySpec<C, T extends string = string> {
    /** `hearth-<area>-<rule>`. */
    readonly name: `hearth-${string}`;
    readonly description: string;
    readonly enforcementLevel: EnforcementLevel;
    /** Resource type tokens this policy checks; others are skipped. */
    readonly types: readonly T[];
    /** Policy-specific config; every property has a default. */
    readonly config?: { readonly [K in keyof C]: ConfigProperty };
    readonly remediationSteps?: string;
    check(args: CheckArgs<C, T>): void;
    /**
     * Returns corrected props when the fix is safe and obvious, or undefined to leave the resource alone. Runs only when
     * the policy's enforcement level is `remediate`, and never for a waived resource.
     */
    remediate?(args: ResourceArgs<C, T>): PropsOf<T> | undefined;
}

export const WAIVERS_SCHEMA: PolicyConfigJSONSchema = {
    type: "array",
    description: "Resources this policy does not apply to: each names a resource (name or URN, or its parent's) and the reason.",
    items: {
        type: "object",
        properties: {
            resource: { type: "string", minLength: 1 },
            reason: { type: "string" },
        },
        required: ["resource"],
    },
    default: [],
};

/** The config schema of a policy: its own properties plus `waivers`. */
export function configSchemaOf<C>(spec: HearthPolicySpec<C, string>): PolicyConfigSchema {
    return { properties: { ...(spec.config ?? {}), waivers: WAIVERS_SCHEMA } as Record<string, PolicyConfigJSONSchema> };
}

/** Config as given, with each property's default where it is missing. */
export function resolveConfig<C>(spec: HearthPolicySpec<C, string>, given: Record<string, unknown>): C & WaiverConfig {
    const out: Record<string, unknown> = { waivers: [] };
    for (const [k, p] of Object.entries(spec.config ?? {}) as [string, ConfigProperty][]) out[k] = structuredClone(p.default);
    for (const [k, v] of Object.entries(given ?? {})) if (v !== undefined && k !== "enforcementLevel") out[k] = v;
    if (!Array.isArray(out.waivers)) out.waivers = [];
    return out as C & WaiverConfig;
}

/** The name part of a URN (`urn:pulumi:stack::project::type::name`). */
export function urnName(urn: string): string {
    const i = urn.lastIndexOf("::");
    return i < 0 ? urn : urn.slice(i + 2);
}

/** Waivers naming this resource or its parent, split into those with a usable reason and those without. */
export function matchingWaivers(waivers: readonly Waiver[], args: Pick<ResourceValidationArgs, "name" | "urn" | "opts">): { valid: Waiver[]; unreasoned: Waiver[] } {
    const parent = args.opts?.parent;
    const names = new Set([args.name, args.urn, ...(parent ? [parent, urnName(parent)] : [])]);
    const matching = waivers.filter((w) => w && typeof w.resource === "string" && names.has(w.resource));
    return { valid: matching.filter((w) => isReason(w.reason)), unreasoned: matching.filter((w) => !isReason(w.reason)) };
}

/** Turns a spec into the Pulumi policy object the pack registers. */
export function hearthPolicy<C = {}, T extends string = string>(spec: HearthPolicySpec<C, T>): ResourceValidationPolicy & { readonly spec: HearthPolicySpec<C, T> } {
    /** The resource as the check sees it: the engine gives props untyped; their type is what `args.type` records. */
    const resource = (args: ResourceValidationArgs, config: C & WaiverConfig): ResourceArgs<C, T> =>
        ({ type: args.type, name: args.name, urn: args.urn, props: args.props, parent: args.opts?.parent, config }) as ResourceArgs<C, T>;
    const applies = (type: string): type is T => (spec.types as readonly string[]).includes(type);
    const validateResource = (args: ResourceValidationArgs, reportViolation: ReportViolation): void => {
        if (!applies(args.type)) return;
        const config = resolveConfig(spec, args.getConfig<Record<string, unknown>>());
        const findings: string[] = [];
        spec.check({ ...resource(args, config), report: (m: string) => findings.push(m) });
        const { valid, unreasoned } = matchingWaivers(config.waivers, args);
        for (const w of unreasoned) {
            reportViolation(`The waiver of '${spec.name}' for '${w.resource}' has no usable reason (${REASON_RULE}); it waives nothing until it has one.`);
        }
        if (valid.length > 0) return;
        for (const m of findings) reportViolation(m);
    };
    const policy: ResourceValidationPolicy & { spec: HearthPolicySpec<C, T> } = {
        name: spec.name,
        description: spec.description,
        enforcementLevel: spec.enforcementLevel,
        configSchema: configSchemaOf(spec),
        validateResource,
        spec,
    };
    if (spec.remediationSteps) policy.remediationSteps = spec.remediationSteps;
    if (spec.remediate) {
        const remediate = spec.remediate;
        policy.remediateResource = (args: ResourceValidationArgs) => {
            if (!applies(args.type)) return undefined;
            const config = resolveConfig(spec, args.getConfig<Record<string, unknown>>());
            if (matchingWaivers(config.waivers, args).valid.length > 0) return undefined;
            return remediate(resource(args, config)) as Record<string, any> | undefined;
        };
    }
    return policy;
}
