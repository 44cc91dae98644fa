// The plan's policy step: the hearth policy pack over the planned resources, as `pulumi preview --policy-pack` would run it.
import * as fs from "fs";
import { createRequire } from "module";
import * as path from "path";

// The shapes of policies/evaluate.ts, restated: the library's build must not pull the pack (and @pulumi/policy) in.
type EnforcementLevel = "advisory" | "mandatory" | "remediate" | "disabled";
export interface PlannedResourceInput {
    readonly type: string;
    readonly name: string;
    readonly parent?: string;
    readonly inputs: Record<string, any>;
}
export interface PolicyReport {
    readonly violations: readonly { policy: string; level: EnforcementLevel; resource: string; urn: string; message: string }[];
    readonly waivers: readonly { policy: string; resource: string; waiver: string; reason: string; findings: readonly string[] }[];
    readonly levels: Readonly<Record<string, EnforcementLevel>>;
}

/** What the plan needs from the pack (`pulumi-hearth-policies/evaluate`, or this repository's policies/). */
export interface PolicyPackModule {
    checkPackConfig(config: unknown): string[];
    evaluatePolicies(resources: readonly PlannedResourceInput[], opts: { project: string; stack: string; config?: Record<string, unknown> }): Promise<PolicyReport>;
    mandatory(report: PolicyReport): PolicyReport["violations"][number][];
}

export interface LoadedPack {
    /** Where the pack came from, for the report. */
    readonly source: string;
    readonly pack: PolicyPackModule;
}

export const POLICY_PACKAGE = "pulumi-hearth-policies";

/** The library's own package.json (this file is stacks/ in the repository, dist/stacks/ in the package). */
function ownPackage(): { name: string; version: string } {
    for (let dir = __dirname; ; dir = path.dirname(dir)) {
        const file = path.join(dir, "package.json");
        if (fs.existsSync(file)) {
            const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
            if (pkg.name === "pulumi-hearth") return pkg;
        }
        if (path.dirname(dir) === dir) throw new Error(`no pulumi-hearth package.json above ${__dirname}`);
    }
}

/**
 * The pack that checks a site: in this repository (running from source) its own policies/; in a site repository the
 * installed pulumi-hearth-policies, which must be the library's exact version (the two are released together).
 */
export function loadPolicyPack(siteDir: string): LoadedPack {
    const source = path.join(__dirname, "../policies/evaluate.ts");
    if (__filename.endsWith(".ts") && fs.existsSync(source)) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return { source: path.relative(process.cwd(), path.dirname(source)) || ".", pack: require(source) };
    }
    const own = ownPackage();
    const install = `npm install --save-dev ${POLICY_PACKAGE}@${own.version}`;
    let manifest: string | undefined;
    for (const from of [path.join(path.resolve(siteDir), "package.json"), __filename]) {
        try {
            manifest = createRequire(from).resolve(`${POLICY_PACKAGE}/package.json`);
            break;
        } catch {
            // not installed there
        }
    }
    if (!manifest) throw new Error(`the plan runs hearth's policy pack, and ${POLICY_PACKAGE} is not installed in ${siteDir}: ${install} (or plan with --no-policies)`);
    const version = JSON.parse(fs.readFileSync(manifest, "utf8")).version;
    if (version !== own.version) throw new Error(`${POLICY_PACKAGE} ${version} is installed, but pulumi-hearth is ${own.version}; they are released together: ${install}`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { source: `${POLICY_PACKAGE} ${version}`, pack: createRequire(manifest)(`${POLICY_PACKAGE}/evaluate`) };
}

/**
 * The policy config (waivers, levels) of a stack: the given file, else the site's `policy-config.<stack>.json`, its
 * `policy-config.json`, this repository's `policies/examples/<stack>.json`, else none.
 */
export function policyConfigFile(siteDir: string, stack: string, given?: string): string | undefined {
    if (given !== undefined) {
        if (!fs.existsSync(given)) throw new Error(`--policy-config ${given} does not exist`);
        return given;
    }
    return [`policy-config.${stack}.json`, "policy-config.json", `policies/examples/${stack}.json`].map((f) => path.join(siteDir, f)).find((f) => fs.existsSync(f));
}

export function readPolicyConfig(file: string | undefined): Record<string, unknown> {
    if (!file) return {};
    try {
        return JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
}

/** The report's text: one line per violation (level, policy, resource, message), then each waiver that applied. */
export function formatPolicies(report: PolicyReport, source: string, configFile: string | undefined): string {
    const rel = (f: string) => path.relative(process.cwd(), f) || f;
    const lines = [`Policies (${source}; config: ${configFile ? rel(configFile) : "none"}):`];
    const order = { mandatory: 0, remediate: 1, advisory: 2, disabled: 3 } as const;
    const sorted = [...report.violations].sort((a, b) => order[a.level] - order[b.level] || a.policy.localeCompare(b.policy) || a.resource.localeCompare(b.resource));
    for (const v of sorted) lines.push(`  ${v.level.padEnd(9)} ${v.policy}  ${v.resource}: ${v.message}`);
    for (const w of report.waivers) {
        lines.push(`  waived    ${w.policy}  ${w.resource}: waiver for '${w.waiver}' (${w.reason}) covers ${w.findings.length} finding(s): ${w.findings.join(" | ")}`);
    }
    const count = (l: string) => report.violations.filter((v) => v.level === l).length;
    const disabled = Object.entries(report.levels).filter(([, l]) => l === "disabled").map(([p]) => p);
    lines.push(`  ${count("mandatory")} mandatory, ${count("advisory")} advisory, ${count("remediate")} remediate violation(s); ${report.waivers.length} waiver(s) applied; ${Object.keys(report.levels).length} policies${disabled.length ? ` (disabled: ${disabled.join(", ")})` : ""}.`);
    return lines.join("\n");
}
