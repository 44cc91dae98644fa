// Feeds registered resources through every policy of the pack, as the engine would: one validation per resource and policy.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { policies } from "../../../policies/all";
import { resourceArgs } from "../fixtures";
import { violations } from "../fixtures";

export interface SiteResource {
    type: string;
    name: string;
    /** Parent as `type/name`. */
    parent?: string;
    inputs: Record<string, any>;
}

export interface Finding {
    policy: string;
    level: string;
    resource: string;
    message: string;
}

/** The URN of each resource, with the parent's type chain the engine puts in it. */
function urns(resources: readonly SiteResource[], project: string, stack: string): Map<SiteResource, string> {
    const byKey = new Map(resources.map((r) => [`${r.type}/${r.name}`, r]));
    const chain = (r: SiteResource): string[] => {
        const p = r.parent ? byKey.get(r.parent) : undefined;
        return p && p.type !== "pulumi:pulumi:Stack" ? [...chain(p), r.type] : [r.type];
    };
    return new Map(resources.map((r) => [r, `urn:pulumi:${stack}::${project}::${chain(r).join("$")}::${r.name}`]));
}

/** Every violation every policy reports for these resources, with policy config by policy name. */
export async function evaluate(resources: readonly SiteResource[], opts: { project?: string; stack?: string; config?: Record<string, Record<string, unknown>> } = {}): Promise<Finding[]> {
    const project = opts.project ?? "hearth";
    const stack = opts.stack ?? "test";
    const urnOf = urns(resources, project, stack);
    const byKey = new Map(resources.map((r) => [`${r.type}/${r.name}`, r]));
    const findings: Finding[] = [];
    for (const r of resources) {
        if (r.type === "pulumi:pulumi:Stack") continue;
        const parent = r.parent ? byKey.get(r.parent) : undefined;
        for (const p of policies) {
            const args = resourceArgs(r.type, structuredClone(r.inputs), { name: r.name, project, stack, config: opts.config?.[p.name] });
            args.urn = urnOf.get(r)!;
            args.opts.parent = parent && parent.type !== "pulumi:pulumi:Stack" ? urnOf.get(parent) : undefined;
            for (const message of await violations(p, args)) findings.push({ policy: p.name, level: p.enforcementLevel ?? "advisory", resource: r.name, message });
        }
    }
    return findings;
}

/** Runs a site program with the given stack file in a scratch project directory and returns what it registered. */
export function runSite(stackYaml: string, stack = "example"): { project: string; resources: SiteResource[] } {
    const root = path.join(__dirname, "../../..");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-site-"));
    try {
        // The other sites come along: a site answers StackReferences to them from their config.
        for (const f of fs.readdirSync(root).filter((f) => /^Pulumi(\..+)?\.yaml$/.test(f))) fs.copyFileSync(path.join(root, f), path.join(dir, f));
        fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stackYaml);
        // Pulumi.yaml's `main` is relative to the project directory; referenced sites are planned from it too.
        fs.symlinkSync(path.join(root, "stacks"), path.join(dir, "stacks"));
        const tsx = path.join(root, "node_modules/.bin/tsx");
        const r = spawnSync(tsx, [path.join(__dirname, "run-site.ts"), dir, stack], { encoding: "utf8", cwd: root, maxBuffer: 64 << 20 });
        if (r.status !== 0) throw new Error(`site program failed: ${r.stderr}`);
        return JSON.parse(r.stdout);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The example stacks shipped at the repository root (`Pulumi.<stack>.yaml`). */
export function exampleStacks(): { stack: string; yaml: string }[] {
    const root = path.join(__dirname, "../../..");
    return fs.readdirSync(root)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => !!s)
        .map((stack) => ({ stack, yaml: fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8") }));
}
