// DNS names: RFC 1035 label and name rules, and moving between relative and absolute owners.
//
// Pure: every check returns a problem description (or null) so both the renderer and the validating component can use it.

/** Longest name in presentation form without the trailing dot (RFC 1035 §2.3.4: 255 octets on the wire). */
export const MAX_NAME = 253;
export const MAX_LABEL = 63;

const LDH = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const UNDERSCORE = /^_[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export interface NameRules {
    /** Labels starting with `_` (SRV/TXT/CNAME conventions such as `_dmarc`, `_acme-challenge`). */
    readonly underscore?: boolean;
    /** `*` as the leftmost label. */
    readonly wildcard?: boolean;
}

/** Why `label` is not acceptable, or null. */
export function labelProblem(label: string, rules: NameRules = {}): string | null {
    if (label.length === 0) return "an empty label (two dots in a row, or a leading dot)";
    if (label.length > MAX_LABEL) return `a label of ${label.length} characters (at most ${MAX_LABEL})`;
    if (/[A-Z]/.test(label)) return `an uppercase label ${JSON.stringify(label)} (write names in lowercase)`;
    if (/[^\x21-\x7e]/.test(label)) return `a label with whitespace, control or non-ASCII characters (use the punycode xn-- form)`;
    if (LDH.test(label)) return null;
    if (rules.underscore && UNDERSCORE.test(label)) return null;
    if (label.startsWith("_")) return `the label ${JSON.stringify(label)} (underscore labels are only for TXT, SRV and CNAME owners)`;
    return `the label ${JSON.stringify(label)} (letters, digits and inner hyphens only)`;
}

/** Why a dotted name (relative or absolute, without the trailing dot) is not acceptable, or null. */
export function nameProblem(name: string, rules: NameRules = {}): string | null {
    if (name.length > MAX_NAME) return `a name of ${name.length} characters (at most ${MAX_NAME})`;
    const labels = name.split(".");
    for (let i = 0; i < labels.length; i++) {
        if (labels[i] === "*") {
            if (i !== 0) return "a '*' that is not the leftmost label";
            if (!rules.wildcard) return "a wildcard ('*') label, which needs allowWildcard: true";
            continue;
        }
        const p = labelProblem(labels[i], rules);
        if (p) return p;
    }
    return null;
}

/** A host name that records point at (CNAME/MX/NS/SRV targets): absolute, at least two labels, not an IP address. */
export function targetProblem(target: string, rules: NameRules = {}): string | null {
    const name = target.endsWith(".") ? target.slice(0, -1) : target;
    const p = nameProblem(name, rules);
    if (p) return p;
    const labels = name.split(".");
    if (labels.length < 2) return `the single label ${JSON.stringify(name)} (targets are fully qualified names such as host.example.org)`;
    if (/^[0-9]+$/.test(labels[labels.length - 1])) return `${JSON.stringify(name)}, which looks like an IP address (targets are host names)`;
    return null;
}

/** Strips one trailing dot. */
export function stripDot(name: string): string {
    return name.endsWith(".") ? name.slice(0, -1) : name;
}

/** Whether `name` equals `zone` or lies below it (both without trailing dots). */
export function inZone(name: string, zone: string): boolean {
    return name === zone || name.endsWith("." + zone);
}

/** The owner relative to its zone ("@" for the apex). */
export function relativeTo(fqdn: string, zone: string): string {
    return fqdn === zone ? "@" : fqdn.slice(0, -(zone.length + 1));
}

/** The absolute name of a relative owner. */
export function absolute(owner: string, zone: string): string {
    return owner === "@" ? zone : `${owner}.${zone}`;
}
