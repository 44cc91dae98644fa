// Turns a component's argument error into a config error at the key path the argument came from: an ArgumentError
// carries its argument's path (keys and indexes), which goes under the config entry's key path.
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError, describe, rules } from "../../components";
import { ConfigProblem, formatProblems } from "../schema";

/**
 * Collects problems from checks that run per config entry (component resolvers), so one run reports them all,
 * then throws them together: nothing is registered while any entry is wrong.
 */
export class ProblemCollector {
    readonly problems: ConfigProblem[] = [];

    /**
     * Runs `check`; an ArgumentError whose path is `a` becomes a problem at `${prefix}.${a}` (after a leading `strip`
     * key is removed). Returns the check's value, or undefined when it failed.
     */
    run<T>(prefix: string, check: () => T, strip = ""): T | undefined {
        try {
            return check();
        } catch (e) {
            this.problems.push(toProblem(prefix, e, strip));
            return undefined;
        }
    }

    /** Throws every collected problem as one ResourceError. */
    throwIfAny(): void {
        if (this.problems.length) throw new pulumi.ResourceError(formatProblems(this.problems), undefined);
    }
}

export function toProblem(prefix: string, e: unknown, strip = ""): ConfigProblem {
    if (e instanceof ArgumentError) {
        const path = strip && e.path[0] === strip.replace(/\.$/, "") ? e.path.slice(1) : e.path;
        return { path: joinPath(prefix, rules.argName(path)), message: `is ${describe(e.value)}: expected ${e.allowed}` };
    }
    // Not an argument error (the checks run as a rehearsal, so every argument problem arrives as one): a bug or an
    // environment problem, reported at the entry as it is.
    return { path: prefix, message: `is not allowed: ${e instanceof Error ? e.message : String(e)}` };
}

/** `hearth:services[2]` + `socket.targetPort` / `execStart[0]`. */
function joinPath(prefix: string, arg: string): string {
    if (arg === "" || arg === "args") return prefix;
    return arg.startsWith("[") ? prefix + arg : `${prefix}.${arg}`;
}
