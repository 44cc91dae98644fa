// Runs `stacks/plan.ts` as a child process (the mock runtime is process-global) against the repo or a throwaway site directory.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "../..");

export interface PlanRun {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

export function runPlan(args: readonly string[], cwd = ROOT): Promise<PlanRun> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--require", "tsx/cjs", path.join(ROOT, "stacks/plan.ts"), ...args], {
            cwd,
            env: { ...process.env, NODE_PATH: path.join(ROOT, "node_modules") },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

export function tmpDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `hearth-${prefix}-`));
}

/** A site directory with this repo's program and the given `Pulumi.<stack>.yaml` texts. */
export function siteDir(stacks: Record<string, string>): string {
    const dir = tmpDir("site");
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: hearth\nruntime: nodejs\nmain: ${path.join(ROOT, "stacks/index.ts")}\n`);
    for (const [name, text] of Object.entries(stacks)) fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), text);
    return dir;
}

export function exampleYaml(): string {
    return fs.readFileSync(path.join(ROOT, "Pulumi.example.yaml"), "utf8");
}

/** Every file under `dir`, relative, sorted. */
export function walk(dir: string): string[] {
    const out: string[] = [];
    const go = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) go(p);
            else out.push(path.relative(dir, p));
        }
    };
    go(dir);
    return out.sort();
}

export interface PlanJson {
    stack: string;
    hosts: { name: string; target: string; commands: { name: string; component?: string; trigger?: string; secretFrames: number; files: { path: string; mode: string }[] }[] }[];
    resources: { type: string; name: string; inputs: Record<string, unknown> }[];
    components: { type: string; name: string }[];
}

export function readPlan(out: string, stack: string): PlanJson {
    return JSON.parse(fs.readFileSync(path.join(out, stack, "plan.json"), "utf8"));
}

/** Command name → trigger, over every host. */
export function triggers(plan: PlanJson): Record<string, string | undefined> {
    return Object.fromEntries(plan.hosts.flatMap((h) => h.commands.map((c) => [`${h.name}/${c.name}`, c.trigger])));
}
