// Drift checks on test hosts: derives each registered converge's check (core/check.ts) from what the runner holds and
// runs a host's checks in one session, as `npm run check` does, reading the report back.
import { strict as assert } from "assert";
import { checkOfConverge, Drift, parseCheckOutput, renderHostCheck, ResourceCheck, ResourceReport } from "../../components/core/check";
import { unwrapCommand } from "../../components/core/shell";
import { TestHost } from "./harness";
import { RegisteredCommand } from "./runner";

/** The checks of the converges among `cmds` that reach `h` (by address), in registration order. */
export function checksFor(h: TestHost, cmds: readonly RegisteredCommand[]): ResourceCheck[] {
    const out: ResourceCheck[] = [];
    for (const c of cmds) {
        if (c.inputs.connection?.host !== h.address || typeof c.inputs.create !== "string") continue;
        const w = unwrapCommand(c.inputs.create);
        if (!w) continue;
        const check = checkOfConverge(c.name, w.script, w.sudo, typeof c.inputs.stdin === "string" ? c.inputs.stdin : undefined);
        if (check) out.push(check);
    }
    return out;
}

/** Runs the checks of every converge in `cmds` that reaches `h`, as root, in one session; the report per resource. */
export async function checkHost(h: TestHost, cmds: readonly RegisteredCommand[]): Promise<ResourceReport[]> {
    const checks = checksFor(h, cmds);
    assert.ok(checks.length > 0, `no converge of the program reaches ${h.name}`);
    const r = await h.exec("bash --noprofile --norc -s", { stdin: renderHostCheck(h.name, checks) });
    assert.equal(r.code, 0, `the check script failed on ${h.name}: ${r.stderr}`);
    const reports = parseCheckOutput(r.stdout, checks.map((c) => c.resource));
    assert.deepEqual(reports.map((x) => x.resource), checks.map((c) => c.resource), "every resource's checks ran");
    for (const rep of reports) assert.equal(rep.error, undefined, `${rep.resource}: its checks stopped early (${rep.error}): ${r.stderr}`);
    return reports;
}

/** Every difference of a report as `resource: what: desired -> found`, for exact comparisons in specs. */
export function driftLines(reports: readonly ResourceReport[]): string[] {
    return reports.flatMap((r) => r.drift.map((d: Drift) => `${r.resource}: ${d.what}: ${d.desired} -> ${d.found}`));
}
