// Site-config fields checked by the components' own core rules (components/core/rules.ts), so a path or a text the
// component would refuse is refused at its key path before any component runs, with the same sentence.
import { z } from "zod";
import { ArgumentError } from "../../components/core/errors";
import { freeText, FreeTextOptions, freeTextAllowed, HOST_PATH_ALLOWED, hostPath, HostPathOptions } from "../../components/core/rules";

function ruled(allowed: string, rule: (v: string) => unknown) {
    return z.string({ error: () => allowed }).superRefine((v, ctx) => {
        try {
            rule(v);
        } catch (e) {
            if (!(e instanceof ArgumentError)) throw e;
            ctx.addIssue({ code: "custom", message: e.allowed, input: v });
        }
    });
}

/** A host path by the shared rule; `literals` are words the field also takes (a mountpoint's `none`, `legacy`). */
export function hostPathField(opts: HostPathOptions = {}, literals: readonly string[] = []) {
    const allowed = literals.length ? `${literals.map((l) => `'${l}'`).join(", ")} or ${HOST_PATH_ALLOWED}` : HOST_PATH_ALLOWED;
    return ruled(allowed, (v) => literals.includes(v) || hostPath("path", v, opts));
}

/** Free text by the shared rule (no control, bidi or zero-width characters). */
export function freeTextField(opts: FreeTextOptions) {
    return ruled(freeTextAllowed(opts), (v) => freeText("text", v, opts));
}
