// Evaluates the converge benchmark's program in a fresh process, as `pulumi up` starts one, and prints the command graph.
//
// Reads a ProgramInput as JSON on stdin (the SSH key travels there, never in argv or the environment) and writes one
// ProgramOutput as JSON on stdout: every command:remote:Command with its resolved inputs, the commands it waits for
// (the dependencies the SDK sends the engine) and the hearth component it belongs to.
import { spawn } from "child_process";
import * as path from "path";
import { performance } from "perf_hooks";
import type * as pulumiTypes from "@pulumi/pulumi";
import type { SiteChanges } from "./site";

export interface ProgramHost {
    readonly name: string;
    readonly address: string;
    readonly hostKey: string;
    readonly privateKey: string;
}

export interface ProgramInput {
    readonly hosts: readonly ProgramHost[];
    readonly services: number;
    readonly dbClient: string;
    readonly changes?: SiteChanges;
}

export interface GraphCommand {
    readonly name: string;
    /** Resolved inputs, secrets unwrapped; `connection.privateKey` is left out (the caller holds the key). */
    readonly inputs: Record<string, any>;
    /** Commands whose step the engine finishes before this one starts. */
    readonly dependsOn: readonly string[];
    /** The outermost hearth component it belongs to, `type/name`. */
    readonly component: string;
    readonly replaceOnChanges: readonly string[];
}

export interface ProgramOutput {
    readonly bootMs: number;
    readonly importMs: number;
    readonly planMs: number;
    readonly commands: readonly GraphCommand[];
    /** The database role's password as the program generated it (the mock runtime's RandomPassword). */
    readonly dbPassword: string;
}

const COMMAND = "command:remote:Command";

/** A TypeScript file of this directory in a fresh Node process (with this process's loader, e.g. tsx), JSON in and out. */
export function jsonChild<I, O>(file: string, input: I, env: NodeJS.ProcessEnv = process.env): Promise<{ out: O; wallMs: number }> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const c = spawn(process.execPath, [...process.execArgv, path.join(__dirname, file)], { stdio: ["pipe", "pipe", "pipe"], env });
        const out: Buffer[] = [];
        let err = "";
        c.stdout.on("data", (b: Buffer) => out.push(b));
        c.stderr.on("data", (b: Buffer) => { err += b.toString("utf8"); });
        c.on("error", reject);
        c.on("close", (code) => {
            const wallMs = Date.now() - started;
            if (code !== 0) reject(new Error(`${file} failed (exit ${code}):\n${err}`));
            else resolve({ out: JSON.parse(Buffer.concat(out).toString("utf8")) as O, wallMs });
        });
        // Keys and paths go over the pipe, never argv or the environment.
        c.stdin.end(JSON.stringify(input));
    });
}

/** Evaluates the program in a fresh Node process, as `pulumi up` starts one. */
export async function evaluate(input: ProgramInput): Promise<ProgramOutput> {
    return (await jsonChild<ProgramInput, ProgramOutput>(path.basename(__filename), input)).out;
}

async function main(): Promise<void> {
    const bootMs = performance.now();
    const input = JSON.parse(require("fs").readFileSync(0, "utf8")) as ProgramInput;
    /* eslint-disable @typescript-eslint/no-require-imports */
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const { Host } = require("../components/host") as typeof import("../components/host");
    const { installMocks, recorded } = require("../tests/mocks") as typeof import("../tests/mocks");
    const { declareSite } = require("./site") as typeof import("./site");
    require("../components/systemd");
    require("../components/zfs");
    require("../components/postgres");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const importMs = performance.now() - bootMs;

    const started = performance.now();
    await installMocks("hearth", "bench");
    // The dependencies the SDK sends with each registration are what the engine orders steps by; the mock runtime
    // drops them before calling the mocks, so they are read off the requests here.
    const monitor = pulumi.runtime.getMonitor() as any;
    const original = monitor.registerResource.bind(monitor);
    const byUrn = new Map<string, { type: string; name: string; parent: string; deps: string[] }>();
    monitor.registerResource = (req: any, callback: (err: unknown, res: any) => void) =>
        original(req, (err: unknown, res: any) => {
            if (!err && res) byUrn.set(res.getUrn(), { type: req.getType(), name: req.getName(), parent: req.getParent(), deps: req.getDependenciesList() });
            callback(err, res);
        });
    let dbPassword: string | undefined;
    const options = new Map<string, pulumiTypes.CustomResourceOptions>();
    await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation((a) => {
            options.set(a.name, a.opts as pulumiTypes.CustomResourceOptions);
            return undefined;
        });
        const hosts = input.hosts.map((h) => new Host({ name: h.name, address: h.address, hostKey: h.hostKey, privateKey: pulumi.secret(h.privateKey), facts: { zfs: true } }));
        const site = declareSite({ hosts, services: input.services, dbClient: input.dbClient, changes: input.changes });
        site.database.password.apply((pw) => { dbPassword = pw; });
        return undefined;
    });
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    const planMs = performance.now() - started;

    const commandUrns = new Map([...byUrn].filter(([, r]) => r.type === COMMAND).map(([urn, r]) => [urn, r.name]));
    const component = (urn: string): string => {
        let cur = byUrn.get(urn);
        let top = cur;
        while (cur && byUrn.get(cur.parent)?.type.startsWith("hearth:")) {
            cur = byUrn.get(cur.parent);
            top = cur;
        }
        return top && top.type.startsWith("hearth:") ? `${top.type}/${top.name}` : `${byUrn.get(urn)?.type}/${byUrn.get(urn)?.name}`;
    };
    const commands: GraphCommand[] = [];
    for (const [urn, r] of byUrn) {
        if (r.type !== COMMAND) continue;
        const rec = recorded.find((x) => x.type === COMMAND && x.name === r.name);
        if (!rec) throw new Error(`no recorded inputs for ${r.name}`);
        const { privateKey: _key, ...connection } = rec.inputs.connection ?? {};
        commands.push({
            name: r.name,
            inputs: { ...rec.inputs, connection },
            dependsOn: [...new Set(r.deps.filter((d) => commandUrns.has(d)).map((d) => commandUrns.get(d)!))],
            component: component(urn),
            replaceOnChanges: options.get(r.name)?.replaceOnChanges ?? [],
        });
    }
    if (dbPassword === undefined) throw new Error("the database password never resolved");
    const out: ProgramOutput = { bootMs, importMs, planMs, commands, dbPassword };
    // A pipe is written asynchronously: exit only once all of it is out.
    await new Promise<void>((resolve) => process.stdout.write(JSON.stringify(out), () => resolve()));
}

if (require.main === module) {
    main().then(
        () => process.exit(0),
        (e) => {
            process.stderr.write(`converge-program: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
            process.exit(1);
        },
    );
}
