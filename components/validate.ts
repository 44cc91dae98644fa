// Input validation shared by all components: anchored patterns and errors that name the argument, the value and what is allowed.
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError, describe } from "./core/errors";
import { isRehearsing } from "./core/owner";
import { documented, LABEL, parseArgs, z } from "./core/schema";
import type { Host } from "./host";

export { describe };

/** Throws a ResourceError naming the argument, the bad value and what is allowed. */
export function fail(arg: string, value: unknown, allowed: string, resource?: pulumi.Resource): never {
    if (isRehearsing()) throw new ArgumentError(arg, value, allowed);
    throw new pulumi.ResourceError(`The '${arg}' argument ${describe(value)} is not allowed: expected ${allowed}.`, resource);
}

/**
 * A hearth Host, recognised by its shape rather than `instanceof`: two loaded copies of hearth (a site and a library
 * each depending on it) have two Host classes, and a resolver must not load the SSH wiring just to check an argument.
 */
export function isHost(value: unknown): value is Host {
    return typeof value === "object" && value !== null && typeof (value as Host).wrap === "function" && "connection" in value;
}

/** A lowercase DNS label. */
export const HOST_NAME = LABEL;

/**
 * Runs a core rule (components/core/rules.ts) and turns its ArgumentError into the ResourceError `fail` throws, with
 * the same message: components call the shared rules through this.
 */
export function check<T>(fn: () => T, resource?: pulumi.Resource): T {
    try {
        return fn();
    } catch (e) {
        // While a site rehearses its constructors, the error stays an ArgumentError (its path goes under a config key).
        if (e instanceof ArgumentError && !isRehearsing()) fail(e.arg, e.value, e.allowed, resource);
        throw e;
    }
}

// ---- schema pieces that need the SDK or the Host shape (core/schema.ts has the pure ones) ---------------------

/** A hearth Host argument (by shape: see isHost); anything else is shown only as "(not a Host)" (an object passed by mistake may carry a key). */
export const hostArg = () =>
    documented(
        z.unknown().superRefine((v, ctx) => {
            if (!isHost(v)) ctx.addIssue({ code: "custom", message: "a hearth Host", input: v === undefined ? undefined : "(not a Host)" });
        }) as unknown as z.ZodType<Host, Host>,
        { type: "Host" },
    );

/** Whether a value is a Pulumi Output. */
export const isOutput = (v: unknown): v is pulumi.Output<unknown> => pulumi.Output.isInstance(v);

/** A Pulumi Output (checked when it resolves, by whoever applies it). */
export const outputArg = <T = string>(allowed = "a Pulumi Output") => documented(z.custom<pulumi.Output<T>>(isOutput, { error: () => allowed }), { type: "Output" });

/** Whether a value is a promise (a `pulumi.Input` may be one). */
const isPromiseLike = (v: unknown): v is PromiseLike<unknown> => typeof v === "object" && v !== null && typeof (v as PromiseLike<unknown>).then === "function";

/**
 * A plain value checked by `schema` now, or an Output or a promise (`pulumi.Input<T>`) checked by the same schema when
 * it resolves (`checkLater`).
 */
export function inputArg<S extends z.ZodType>(schema: S) {
    const later = z.custom<pulumi.OutputInstance<z.output<S>> | Promise<z.output<S>>>((v) => isOutput(v) || isPromiseLike(v));
    // When neither fits, the plain value's own problem is the one to report (not the union's "Invalid input").
    return z.union([later, schema], { error: (iss) => (iss.code === "invalid_union" ? iss.errors[1]?.[0]?.message : undefined) });
}

/**
 * A `pulumi.Input` checked by `schema`: a plain value is returned as it is (the schema checked it already); an Output
 * or a promise becomes an Output that fails with the same error as a plain value would, naming `path`, when it
 * resolves to something the schema refuses (and with it every resource that uses it).
 */
export function checkLater<S extends z.ZodType>(value: pulumi.Input<z.output<S>>, schema: S, path: readonly (string | number)[], resource?: pulumi.Resource): pulumi.Input<z.output<S>> {
    if (!isOutput(value) && !isPromiseLike(value)) return value;
    return pulumi.output(value).apply((v) => check(() => parseArgs(schema, v, path), resource)) as pulumi.Input<z.output<S>>;
}

/**
 * A secret that must already be a Pulumi Output (`config.requireSecret`, `pulumi.secret`, a StackReference secret):
 * a plain string would be recorded in state in clear text. The error never shows a plain value.
 */
export function secretArg(allowed = "a Pulumi secret Output (a plain string would be stored in state in clear text)") {
    const s = z.unknown().superRefine((v, ctx) => {
        if (!isOutput(v)) ctx.addIssue({ code: "custom", message: allowed, input: typeof v === "string" ? "<a plain string>" : v === undefined ? undefined : typeof v });
    }) as unknown as z.ZodType<pulumi.Output<string>, pulumi.Output<string>>;
    return documented(s, { type: "secret Output" });
}
