// The contract between hearth and the parts of @pulumi/pulumi it uses beyond the SDK's documented API (stacks/sdk.ts).
// Each spec exercises one of them against the installed SDK and names it when it fails, so that moving to a new SDK
// is a change of the version pin plus a run of this file. The probes that need a stack (the root stack resource, the
// config, the mock monitor, all process-global) run in a child process: this file, run directly.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
    configKeyIsSecret,
    disconnect,
    isWireSecret,
    outputIsKnown,
    recordParents,
    resourceKey,
    runInStack,
    SDK_VERSION,
    SECRET_SIG,
    setStackConfig,
    SIG_KEY,
    UNKNOWN_STATE,
    unwrapSecrets,
} from "../../stacks/sdk";
import { reveal } from "../../stacks/plan-runtime";

const ROOT = path.resolve(__dirname, "../..");

/** The engine's property encoding (pulumi/sdk/go/common/resource/properties.go): fixed by the wire protocol. */
const ENGINE_SIG_KEY = "4dabf18193072939515e22adb298388d";
const ENGINE_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** The engine's unknown sentinel (pulumi/sdk/go/common/resource/plugin/rpc.go, UnknownStringValue). */
const ENGINE_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** What one probe found: the internal it checks, and the observed facts (compared by the specs below). */
type ProbeResult = Record<string, unknown>;

class Thing extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("contract:index:Thing", name, {}, opts);
    }
}

class Leaf extends pulumi.CustomResource {
    declare readonly shown: pulumi.Output<unknown>;
    constructor(name: string, args: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
        super("contract:index:Leaf", name, { ...args, shown: undefined }, opts);
    }
}

/** Registers resources in a stack under mocks (not a preview) and reports what the adapter saw. */
async function probeStack(): Promise<ProbeResult> {
    const inputs = new Map<string, Record<string, unknown>>();
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                inputs.set(args.name, args.inputs);
                return { id: `${args.name}-id`, state: { ...args.inputs, shown: "known" } };
            },
            call: (args) => args.inputs,
        },
        "contract",
        "probe",
        false,
        "organization",
    );
    setStackConfig({ "contract:plain": "1", "contract:hidden": "2", "contract:section": JSON.stringify({ a: [1] }) }, ["contract:hidden"]);
    const config = new pulumi.Config("contract");
    const result: ProbeResult = {
        isConfigSecret: { plain: configKeyIsSecret("contract:plain"), hidden: configKeyIsSecret("contract:hidden"), unset: configKeyIsSecret("contract:nothing") },
        isConfigSecretIsFunction: typeof (pulumi.runtime as unknown as Record<string, unknown>).isConfigSecret === "function",
        config: { plain: config.get("plain"), section: config.getObject("section"), all: pulumi.runtime.allConfig() },
    };
    let parents = new Map<string, string>();
    let thing: Thing | undefined;
    let leaf: Leaf | undefined;
    await runInStack(async () => {
        parents = recordParents();
        thing = new Thing("t1");
        leaf = new Leaf("l1", { plain: "p", secret: pulumi.secret("s"), nested: { inner: "i" } }, { parent: thing });
        return { out: pulumi.secret("exported") };
    });
    result.hiddenIsSecret = await pulumi.isSecret(config.requireSecret("hidden"));
    result.resourceKey = { thing: resourceKey(thing!), leaf: resourceKey(leaf!) };
    result.parents = Object.fromEntries(parents);
    result.known = await outputIsKnown(leaf!.shown);
    result.leafInputs = inputs.get("l1");
    await disconnect();
    return result;
}

/** A preview under mocks: a StackReference whose outputs a mock leaves unknown, as the planner does for a preview. */
async function probePreview(): Promise<ProbeResult> {
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const state: Record<string, unknown> = { ...args.inputs };
                if (args.type === "pulumi:pulumi:StackReference") {
                    state.outputs = UNKNOWN_STATE;
                    state.secretOutputNames = [];
                }
                return { id: `${args.name}-id`, state };
            },
            call: (args) => args.inputs,
        },
        "contract",
        "preview",
        true,
        "organization",
    );
    const ref = new pulumi.StackReference("other", { name: "organization/contract/other" });
    const out = ref.getOutput("x");
    const result: ProbeResult = { known: await outputIsKnown(out), revealed: await reveal({ out }), plainKnown: await outputIsKnown(pulumi.output(1)) };
    await disconnect();
    return result;
}

const PROBES: Record<string, () => Promise<ProbeResult>> = { stack: probeStack, preview: probePreview };

function runProbe(name: string): ProbeResult {
    const r = spawnSync(process.execPath, ["--require", "tsx/cjs", __filename, name], { cwd: ROOT, encoding: "utf8", timeout: 60000 });
    if (r.status !== 0) throw new Error(`the ${name} probe failed (exit ${r.status}):\n${r.stderr}`);
    return JSON.parse(r.stdout);
}

/**
 * Files that still reach an SDK internal directly instead of through stacks/sdk.ts, each with why. An entry that no
 * longer matches is reported, so the list only shrinks.
 */
const DIRECT_USES: Record<string, string> = {};

/** How each internal shows in source: hard-coded wire constants, private fields, untyped runtime functions. */
const INTERNAL_PATTERNS: RegExp[] = [
    /4dabf18193072939515e22adb298388d|1b47061264138c4ac30d75fd1eb44270|04da6b54-80e4-46f7-96ec-b56ff0331ba9/,
    /\b(specialSigKey|specialSecretSig|unknownValue|isConfigSecret|__pulumiType|getMonitor|getStore)\b/,
    /\.__name\b|\bisKnown\s*:\s*Promise/,
    /\bruntime\.(setAllConfig|runInPulumiStack|disconnect|registerStackTransformation)\b/,
];

function sourceFiles(dir: string, out: string[] = []): string[] {
    for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const rel = `${dir}/${e.name}`;
        if (e.isDirectory()) {
            if (e.name !== "node_modules" && e.name !== "dist") sourceFiles(rel, out);
        } else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(rel);
    }
    return out;
}

if (require.main === module) {
    const probe = PROBES[process.argv[2]];
    if (!probe) throw new Error(`usage: sdk-contract.test.ts ${Object.keys(PROBES).join("|")}`);
    probe().then(
        (r) => {
            process.stdout.write(JSON.stringify(r));
            process.exit(0);
        },
        (e) => {
            process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
            process.exit(1);
        },
    );
} else {
    describe(`@pulumi/pulumi ${SDK_VERSION}: the internals stacks/sdk.ts relies on`, function () {
        this.timeout(120000);
        let stack: ProbeResult;
        let preview: ProbeResult;
        before(() => {
            stack = runProbe("stack");
            preview = runProbe("preview");
        });

        it("runtime.specialSigKey and runtime.specialSecretSig: the secret wire signature is the engine's", () => {
            assert.equal(SIG_KEY, ENGINE_SIG_KEY, `runtime.specialSigKey changed: ${SIG_KEY}`);
            assert.equal(SECRET_SIG, ENGINE_SECRET_SIG, `runtime.specialSecretSig changed: ${SECRET_SIG}`);
        });

        it("secret wire shape: a mock's newResource receives a secret input as { [specialSigKey]: specialSecretSig, value }", () => {
            const inputs = stack.leafInputs as Record<string, unknown>;
            assert.deepEqual(inputs.secret, { [ENGINE_SIG_KEY]: ENGINE_SECRET_SIG, value: "s" }, `a secret input arrives as ${JSON.stringify(inputs.secret)}`);
            assert.equal(isWireSecret(inputs.secret), true, "isWireSecret does not recognise a secret input");
            assert.equal(isWireSecret(inputs.plain), false, "isWireSecret takes a plain input for a secret");
            assert.equal(isWireSecret(inputs.nested), false, "isWireSecret takes a plain object for a secret");
            assert.deepEqual(unwrapSecrets(inputs), { plain: "p", secret: "s", nested: { inner: "i" } }, "unwrapSecrets does not recover the inputs");
        });

        it("runtime.isConfigSecret: true exactly for the keys setAllConfig was given as secret", () => {
            assert.equal(stack.isConfigSecretIsFunction, true, "runtime.isConfigSecret is gone: the site config can no longer tell a secret key from a plain one");
            assert.deepEqual(stack.isConfigSecret, { plain: false, hidden: true, unset: false }, `runtime.isConfigSecret answers ${JSON.stringify(stack.isConfigSecret)}`);
            assert.equal(stack.hiddenIsSecret, true, "a key setAllConfig was given as secret does not read back as a secret Output");
        });

        it("runtime.setAllConfig: the program reads the config as the CLI passes it (qualified keys, values as text)", () => {
            assert.deepEqual(stack.config, {
                plain: "1",
                section: { a: [1] },
                all: { "contract:plain": "1", "contract:hidden": "2", "contract:section": '{"a":[1]}' },
            });
        });

        it("resourceType/resourceName and old-style stack transformations: the resource tree is visible under mocks", () => {
            assert.deepEqual(stack.resourceKey, { thing: "contract:index:Thing/t1", leaf: "contract:index:Leaf/l1" });
            assert.deepEqual(
                stack.parents,
                // A top-level resource's parent (the stack) is filled in after the transformations: none is recorded.
                { "contract:index:Leaf/l1": "contract:index:Thing/t1" },
                `registerStackTransformation reported parents ${JSON.stringify(stack.parents)}`,
            );
        });

        it("Output.isKnown: a promise of true for a resolved value", () => {
            assert.equal(stack.known, true, "Output.isKnown is not true for a resolved resource output");
            assert.equal(preview.plainKnown, true, "Output.isKnown is not true for a plain value");
        });

        it("runtime.unknownValue: a mock state of it leaves the output unknown in a preview", () => {
            assert.equal(UNKNOWN_STATE, ENGINE_UNKNOWN, `runtime.unknownValue changed: ${UNKNOWN_STATE}`);
            assert.equal(preview.known, false, "a StackReference output the mock left unknown reads as known");
            assert.deepEqual(preview.revealed, { out: "[unknown]" });
        });

        it("outputIsKnown fails by name on an Output without isKnown", () => {
            const fake = {} as pulumi.Output<unknown>;
            assert.throws(() => outputIsKnown(fake), /@pulumi\/pulumi .*: Output\.isKnown is no longer a promise/);
        });

        it("no file in components/, stacks/ or policies/ but stacks/sdk.ts reaches an SDK internal", () => {
            const found: string[] = [];
            for (const file of ["components", "stacks", "policies"].flatMap((d) => sourceFiles(d))) {
                if (file === "stacks/sdk.ts") continue;
                const text = fs.readFileSync(path.join(ROOT, file), "utf8");
                const hit = INTERNAL_PATTERNS.find((p) => p.test(text));
                if (hit && !(file in DIRECT_USES)) found.push(`${file} (${hit.exec(text)![0]})`);
                if (!hit && file in DIRECT_USES) found.push(`${file}: stale entry in DIRECT_USES, remove it`);
            }
            for (const file of Object.keys(DIRECT_USES)) if (!fs.existsSync(path.join(ROOT, file))) found.push(`${file}: stale entry in DIRECT_USES, remove it`);
            assert.deepEqual(found, [], "these files use an SDK internal directly: go through stacks/sdk.ts");
        });
    });
}
