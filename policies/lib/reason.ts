// What counts as a recorded reason, for loosenings and for waivers: the same rule components enforce, minus placeholders.

/** Words people type to get past a required field; a "reason" made only of these explains nothing. */
const PLACEHOLDER_WORD = /^(todo|tbd|fixme|xxx+|n\/?a|none|null|undefined|because|reason|no|temp|temporary|test|testing|later|needed|required|wip|asdf|foo|bar|-+|\.+|\?+)$/i;

export const REASON_RULE = "a one-line reason of 8 to 200 printable ASCII characters that says why";

/** True for a one-line printable reason of 8–200 characters that is not a placeholder. */
export function isReason(value: unknown): value is string {
    if (typeof value !== "string") return false;
    if (!/^[\x20-\x7e]{8,200}$/.test(value)) return false;
    const t = value.trim();
    if (t.length < 8) return false;
    const wordsOf = t.split(/[\s:;,.!]+/).filter(Boolean);
    return !wordsOf.every((w) => PLACEHOLDER_WORD.test(w)) && /[A-Za-z]{3}/.test(t);
}
