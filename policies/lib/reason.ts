// What counts as a recorded reason, for loosenings and for waivers: the components' reason rule (core), and not only
// placeholder words.
import { REASON, REASON_ALLOWED, REASON_WORDS } from "../../components/core/vocab";

/** Words people type to get past a required field; a "reason" made only of these explains nothing. */
const PLACEHOLDER_WORD = /^(todo|tbd|fixme|xxx+|n\/?a|none|null|undefined|because|reason|no|temp|temporary|test|testing|later|needed|required|wip|asdf|foo|bar|-+|\.+|\?+)$/i;

export const REASON_RULE = `${REASON_ALLOWED} that says why`;

/** True for a reason the components accept that says something: letters, and not only placeholder words. */
export function isReason(value: unknown): value is string {
    if (typeof value !== "string" || !REASON.test(value) || value.trim().length < 8) return false;
    const words = value.split(/[\s:;,.!]+/).filter(Boolean);
    return !words.every((w) => PLACEHOLDER_WORD.test(w)) && REASON_WORDS.test(value);
}
