// Shared mock runtime for specs: records every registered resource with its inputs, and resolves outputs like the providers would.
import { isWireSecret } from "../stacks/sdk";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

export interface RecordedResource {
    type: string;
    name: string;
    /** Inputs with secrets unwrapped to their values. */
    inputs: Record<string, any>;
    /** Inputs as the engine would receive them: secrets still wrapped in the secret signature. */
    rawInputs: Record<string, any>;
}

/** Whether a raw (engine-shaped) value is a secret (the wire signature comes from the SDK adapter). */
export function isSecretValue(v: unknown): boolean {
    return isWireSecret(v);
}

/** Recursively replaces secret wrappers with their values. */
export function unwrapSecrets(v: any): any {
    if (isSecretValue(v)) return unwrapSecrets(v.value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    return v;
}

/** Every plain (non-secret) string anywhere in a raw input tree: what state and policy props show in clear text. */
export function plainStrings(v: any): string[] {
    if (isSecretValue(v)) return [];
    if (typeof v === "string") return [v];
    if (Array.isArray(v)) return v.flatMap(plainStrings);
    if (v && typeof v === "object") return Object.values(v).flatMap(plainStrings);
    return [];
}

/** A real ed25519 public key (from ssh-keygen) for hosts in specs: every Host is pinned, and the key is checked. */
export const TEST_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBMY4iXCEbVxMIRsQEyneFrlFR4/Gkmv4mMZLffxY3vv test-host";
/** Another one, for bastions (proxies) in specs. */
export const TEST_BASTION_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKAGQHaQrSRNj8gCSRIwod7AB6xhhrrEgZae19FSCIdo test-bastion";

/** Every resource registered since the last `resetRecorded()`. */
export const recorded: RecordedResource[] = [];

/** What a mocked remote command prints on stdout, by resource name and inputs (e.g. a public key a key script reports). */
let commandStdout: (name: string, inputs: Record<string, any>) => string = () => "";

/** Sets the stdout of mocked remote commands for the next registrations; `undefined` restores "". */
export function setCommandStdout(fn?: (name: string, inputs: Record<string, any>) => string): void {
    commandStdout = fn ?? (() => "");
}

/** What a mocked invoke (a data source such as getZone) returns, by token and inputs; undefined echoes the inputs. */
let callResult: (token: string, inputs: Record<string, any>) => Record<string, any> | undefined = () => undefined;

/** Sets what mocked invokes return for the next calls; `undefined` restores echoing the inputs. */
export function setCallResult(fn?: (token: string, inputs: Record<string, any>) => Record<string, any> | undefined): void {
    callResult = fn ?? (() => undefined);
}

export function resetRecorded(): void {
    recorded.length = 0;
}

/** What the mock RandomPassword named `name` returns; keepers change it, as they make the real provider generate a new one. */
export function mockPassword(name: string, keepers?: Record<string, unknown>): string {
    const suffix = keepers ? createHash("sha256").update(JSON.stringify(keepers)).digest("hex").slice(0, 8) : "";
    return "mock-password-" + name.replace(/[^a-z0-9]/gi, "").slice(0, 24) + suffix;
}

/** Installs the mocks. Call inside `before()`: setMocks is process-global. */
export async function installMocks(project = "hearth", stack = "test"): Promise<void> {
    await pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                const inputs = unwrapSecrets(args.inputs);
                recorded.push({ type: args.type, name: args.name, inputs, rawInputs: args.inputs });
                const state: Record<string, any> = { ...args.inputs };
                if (args.type === "command:remote:Command") {
                    state.stdout = commandStdout(args.name, inputs);
                    state.stderr = "";
                }
                if (args.type === "random:index/randomPassword:RandomPassword") {
                    state.result = mockPassword(args.name, inputs.keepers);
                }
                if (args.type === "random:index/randomBytes:RandomBytes" || args.type === "random:index/randomId:RandomId") {
                    state.base64 = Buffer.alloc(32, args.name.length).toString("base64");
                    state.hex = Buffer.alloc(32, args.name.length).toString("hex");
                    state.b64Std = state.base64;
                }
                return { id: `${args.name}-id`, state };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                return callResult(args.token, args.inputs) ?? args.inputs;
            },
        },
        project,
        stack,
        false,
        "organization",
    );
}

/** Resolves an Output (or plain value) in tests. */
export function resolve<T>(o: pulumi.Input<T>): Promise<T> {
    return new Promise((res) => pulumi.output(o).apply((v) => { res(v as T); return v; }));
}

/** Whether an Output is marked secret. */
export function isSecret(o: pulumi.Output<unknown>): Promise<boolean> {
    return pulumi.isSecret(o);
}

/** Lets queued registrations settle. */
export function settle(): Promise<void> {
    return new Promise((r) => setTimeout(r, 50));
}
