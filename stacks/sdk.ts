// The one place that touches @pulumi/pulumi beyond its documented API (the offline planner and the site config need a
// few of its internals). tests/stacks/sdk-contract.test.ts checks each of them against the installed SDK, so an
// upgrade that changes one fails there, by name, instead of planning wrong. Nothing else may reach past the SDK's API.
import * as pulumi from "@pulumi/pulumi";

/** The installed SDK's version, for error messages. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const SDK_VERSION: string = require("@pulumi/pulumi/package.json").version;

/** An error that names the SDK internal that changed, and where the planner depends on it. */
export function sdkChanged(internal: string, what: string): Error {
    return new Error(`@pulumi/pulumi ${SDK_VERSION}: ${internal} ${what}; hearth's offline planner relies on it (stacks/sdk.ts; run tests/stacks/sdk-contract.test.ts)`);
}

const runtime = pulumi.runtime as typeof pulumi.runtime & {
    /** Internal (not in the SDK's typings): whether a config key was set as a secret. */
    isConfigSecret?: (key: string) => boolean;
};

function wireConstant(name: "specialSigKey" | "specialSecretSig"): string {
    const v: unknown = runtime[name];
    if (typeof v !== "string" || v.length === 0) throw sdkChanged(`runtime.${name}`, "is no longer a string");
    return v;
}

/** The key that marks a special value on the wire (the engine's property encoding), and the value that says "secret". */
export const SIG_KEY = wireConstant("specialSigKey");
export const SECRET_SIG = wireConstant("specialSecretSig");

/** A secret as the engine (and a mock's `newResource`) receives it: `{ [SIG_KEY]: SECRET_SIG, value }`. */
export interface WireSecret {
    readonly value: unknown;
}

/** Whether a value in a registered resource's inputs is a secret (still wrapped). */
export function isWireSecret(v: unknown): v is WireSecret {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** A value with every secret wrapper replaced by what it holds. */
export function unwrapSecrets(v: unknown): any {
    if (isWireSecret(v)) return unwrapSecrets(v.value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    return v;
}

/** What a mock puts in a resource's state for a value that is not known yet (a preview leaves it unknown). */
export const UNKNOWN_STATE: string = runtime.unknownValue;

/** `type/name` of a resource, as the planner keys the resource tree. */
export function resourceKey(res: pulumi.Resource): string {
    return `${pulumi.resourceType(res)}/${pulumi.resourceName(res)}`;
}

/**
 * Records, from now on, the parent of every resource registered in the stack: `type/name` of the child to `type/name`
 * of its parent. Call inside `runInStack`. Old-style stack transformations run in the SDK, so they see each resource's
 * parent even under mocks (which turn the new transforms off).
 */
export function recordParents(): Map<string, string> {
    const parents = new Map<string, string>();
    pulumi.runtime.registerStackTransformation((t) => {
        if (t.opts.parent) parents.set(`${t.type}/${t.name}`, resourceKey(t.opts.parent));
        return undefined;
    });
    return parents;
}

/**
 * Whether the config key `ns:key` was set as a secret (`pulumi config set --secret`), or undefined when this SDK has
 * no way to tell (the check that needs it is then skipped rather than guessed).
 */
export function configKeyIsSecret(key: string): boolean | undefined {
    return typeof runtime.isConfigSecret === "function" ? runtime.isConfigSecret(key) : undefined;
}

/** Whether an Output's value is known (false in a preview until what it waits on exists). */
export function outputIsKnown(o: pulumi.Output<unknown>): Promise<boolean> {
    const known = (o as unknown as { isKnown?: Promise<boolean> }).isKnown;
    if (!known || typeof known.then !== "function") throw sdkChanged("Output.isKnown", "is no longer a promise");
    return known;
}

/** Hands the program its config as the CLI would: fully qualified keys, values as text; `secretKeys` were `secure:`. */
export function setStackConfig(config: Record<string, string>, secretKeys: string[]): void {
    pulumi.runtime.setAllConfig(config, secretKeys);
}

/** Runs a program inside the root stack resource, as the language host does; resolves when its resources are registered. */
export function runInStack(program: () => Promise<Record<string, unknown>>): Promise<unknown> {
    return pulumi.runtime.runInPulumiStack(program);
}

/** Waits for outstanding registrations and closes the (mock) monitor. */
export function disconnect(): Promise<void> {
    return pulumi.runtime.disconnect();
}
