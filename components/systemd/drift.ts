// The read-only drift check of a SystemdService (core/check.ts): calls of the runtime's hearth_check_* functions, built
// from the same plan as its converge (script.ts). The converge's files (unit files, drop-in, config files, credentials)
// and its completion are checked without these lines; they add what only systemd knows: each unit enabled and active
// as the converge leaves it, loaded from its files as they are now, not masked, the drop-in loaded, and its files
// still what hearth last applied (the digest the converge records after a restart).
import { shq } from "../shell";
import { appliedKey, ServicePlan } from "./script";

const line = (...words: readonly string[]) => words.map(shq).join(" ");

/** The check lines of a service's plan. */
export function serviceCheck(p: ServicePlan): string[] {
    const out: string[] = [];
    const template = p.unit.includes("@.");
    // The unit the converge restarts when the digest changes (named in the report), or "-" when it restarts none.
    let restarted = "-";
    if (p.kind === "dropIn") {
        if (!template) out.push(line("hearth_check_dropin", p.unit, p.files[0].path));
        // Its own drop-in is hearth's; any other in /etc or /run overrides the unit by hand.
        if (p.enable && !template) out.push(line("hearth_check_unit", p.unit, "enabled", "active", p.files[0].path));
        // A unit hearth never restarts runs the drop-in from its next restart on; a template's instances are try-restarted.
        if (!p.neverRestart && !template) restarted = p.unit;
    } else {
        const on = p.enable ? ["enabled", "active"] : ["disabled", "inactive"];
        if (p.kind === "service") {
            out.push(line("hearth_check_unit", p.unit, ...on));
        } else if (p.kind === "timer") {
            out.push(line("hearth_check_unit", p.timer!, ...on), line("hearth_check_unit", p.unit, "-", "-"));
        } else {
            // Socket-activated: the socket listens; the proxy and the service run only while connections come.
            out.push(line("hearth_check_unit", p.socket!, ...on), line("hearth_check_unit", p.unit, "-", "-"), line("hearth_check_unit", p.proxy!, "-", "-"));
        }
        if (p.enable) restarted = p.kind === "service" ? p.unit : p.kind === "timer" ? p.timer! : p.socket!;
        out.push(line("hearth_check_credentials", p.credentialDir!, ...p.credentials.map((c) => c.name)));
    }
    // The converge's digest (script.ts digest()): unit files, credentials, config files, watched files. A reloadable
    // service records "<all> <unit files and credentials>", and only those restart it.
    const paths = [...p.files.map((f) => f.path), ...p.credentials.map((c) => c.path), ...p.configFiles.map((f) => f.path), ...p.watched];
    const restarting = p.kind === "service" && p.enable && p.reload ? p.files.length + p.credentials.length : paths.length;
    out.push(line("hearth_check_unit_applied", appliedKey(p.files[0].path), restarted, String(restarting), ...paths));
    return out;
}
