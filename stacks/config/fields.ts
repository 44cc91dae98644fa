// Leaf validators of the site config: each carries the one sentence that says what is allowed, which every error repeats.
import { rules } from "../../components";

export const { pattern, bool, list, record, label } = rules;

/** A Pulumi config key name in this project's namespace that holds a secret. */
export const SECRET_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;
const SECRET_KEY_ALLOWED = "the name of a secret config key in the hearth namespace (letters, digits, '_', '.', '-'; set with `pulumi config set --secret`)";
/** The name of a secret config key. A value that is not one is not shown: it may be the secret itself, pasted here. */
export const secretKey = () =>
    rules.z.string(rules.say(SECRET_KEY_ALLOWED)).superRefine((v, ctx) => {
        if (!SECRET_KEY.test(v)) ctx.addIssue({ code: "custom", message: SECRET_KEY_ALLOWED, input: "(not shown: it may be the secret itself)" });
    });
