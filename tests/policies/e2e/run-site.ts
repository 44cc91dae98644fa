// Runs one site program under the mock runtime (a child process per run: setMocks and the program module are process-global) and prints its resources as JSON.
//
// Usage: tsx tests/policies/e2e/run-site.ts DIR STACK  — DIR holds Pulumi.yaml and Pulumi.<STACK>.yaml (and the stacks it references).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { runProgram, unwrap } from "../../../stacks/plan-runtime";

const ROOT = path.join(__dirname, "../../..");

/** Answers a StackReference with the referenced site's planned outputs, as `npm run plan` does (`--outputs`). */
function referencedOutputs(dir: string): (name: string) => Record<string, unknown> {
    const cache = new Map<string, Record<string, unknown>>();
    return (name) => {
        const stack = name.split("/").pop()!;
        if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !fs.existsSync(path.join(dir, `Pulumi.${stack}.yaml`))) return {};
        if (!cache.has(stack)) {
            const r = spawnSync(path.join(ROOT, "node_modules/.bin/tsx"), [path.join(ROOT, "stacks/plan.ts"), "--stack", stack, "--dir", dir, "--outputs"], {
                encoding: "utf8",
                cwd: ROOT,
                env: { ...process.env, HEARTH_PLAN_NESTED: "1" },
            });
            if (r.status !== 0) throw new Error(`planning referenced stack '${stack}' failed:\n${r.stderr}`);
            cache.set(stack, JSON.parse(r.stdout));
        }
        return cache.get(stack)!;
    };
}

async function main(): Promise<void> {
    const [dir, stack] = process.argv.slice(2);
    const run = await runProgram({ stack, dir, program: path.join(ROOT, "stacks/index.ts"), stackOutputs: referencedOutputs(dir) });
    const resources = run.resources.map((r) => ({ type: r.type, name: r.name, parent: r.parent, inputs: unwrap(r.inputs) }));
    process.stdout.write(JSON.stringify({ project: run.config.project, resources }));
}

main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
});
