// The host's own drift check (pure): the check script a HostDriftTimer installs, derived from the host's converges by
// the same functions `npm run check` uses (core/check.ts), and the converge that installs it.
import { checkOfConverge, hostCheckParts, ResourceCheck } from "../core/check";
import type { OwnerMark } from "../core/owner";
import { contentHash, Script, shq, unwrapCommand } from "../core/shell";

/** Where the check lives on the host: root's only (it names every file hearth manages there, and what it holds). */
export const DRIFT_CHECK_PATH = "/usr/local/lib/hearth/drift-check.sh";

/** How long a run may take before it is killed and the unit fails. */
export const DRIFT_TIMEOUT_SEC = 1800;

/** The unit that runs it (its timer has the same name). */
export const DRIFT_UNIT = "hearth-drift-check";

/** A converge as the engine resolved it: the wrapped command and its stdin. */
export interface ConvergeText {
    readonly name: string;
    readonly create: string;
    readonly stdin?: string;
}

/** The check of each converge that is a hearth converge (one that records its completion), in order. */
export function driftChecks(converges: readonly ConvergeText[]): ResourceCheck[] {
    const out: ResourceCheck[] = [];
    for (const c of converges) {
        const w = unwrapCommand(c.create);
        if (!w) continue;
        const check = checkOfConverge(c.name, w.script, w.sudo, c.stdin);
        if (check) out.push(check);
    }
    return out;
}

/**
 * The script the timer runs: the host check `npm run check` would send (renderHostCheck), its report piped through
 * `hearth_check_verdict`, which passes it to the journal and fails the run when it holds a drift or an error line.
 * Throws when no converge carries a check.
 */
export function renderDriftCheck(host: string, converges: readonly ConvergeText[], mark: OwnerMark): string {
    const checks = driftChecks(converges);
    if (checks.length === 0) throw new Error(`no converge registered on host ${host} carries a check`);
    const { head, body } = hostCheckParts(host, checks);
    // The verdict counts the reports: a resource whose report never came (its check killed) fails the run too.
    return ["#!/bin/bash", `# hearth-owner: ${mark.id}`, head, "{", body, `} | hearth_check_verdict ${checks.length}`, ""].join("\n");
}

export interface RenderedDriftInstall {
    readonly script: string;
    readonly deleteScript: string;
    /** The scripts' hash; the installed check's own hash goes in as `uses` (it resolves later). */
    readonly hash: string;
}

/** The converge that installs the check (its body is the stdin frame) and the delete that removes it. */
export function renderDriftInstall(mark: OwnerMark): RenderedDriftInstall {
    const p = shq(DRIFT_CHECK_PATH);
    const s = new Script(`drift check at ${DRIFT_CHECK_PATH}`).owner(mark);
    s.raw(`if [ -e ${p} ] || [ -L ${p} ]; then hearth_claim ${p} "$(hearth_file_owner ${p})"; fi`);
    s.install({ path: DRIFT_CHECK_PATH, content: "", mode: 0o700 });
    const script = s.render();
    const del = new Script(`remove the drift check at ${DRIFT_CHECK_PATH}`).owner(mark);
    del.raw(`if hearth_mine "$(hearth_file_owner ${p})"; then hearth_remove ${p}; fi`);
    const deleteScript = del.render();
    return { script, deleteScript, hash: contentHash(script, deleteScript) };
}
