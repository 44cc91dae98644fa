// Runs one site program under the mock runtime (a child process per run: setMocks and the program module are process-global) and prints its resources as JSON.
//
// Usage: tsx tests/policies/e2e/run-site.ts DIR STACK  — DIR holds Pulumi.yaml and Pulumi.<STACK>.yaml.
import * as path from "path";
import { runProgram, unwrap } from "../../../stacks/plan-runtime";

async function main(): Promise<void> {
    const [dir, stack] = process.argv.slice(2);
    const run = await runProgram({ stack, dir, program: path.join(__dirname, "../../../stacks/index.ts") });
    const resources = run.resources.map((r) => ({ type: r.type, name: r.name, parent: r.parent, inputs: unwrap(r.inputs) }));
    process.stdout.write(JSON.stringify({ project: run.config.project, resources }));
}

main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
});
