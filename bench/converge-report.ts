// The converge benchmark's tables: time and remote commands per phase for both tools, and round trips per component.
import type { AnsibleRun } from "./ansible";
import type { Step } from "./apply";
import { median, table } from "./machine";

export interface HearthPhase {
    /** The program in a fresh Node process, as `pulumi up` starts one: boot, import, evaluation, output. */
    readonly programMs: number;
    readonly importMs: number;
    readonly planMs: number;
    /** From deciding the steps to the end of the last one (all concurrent as their dependencies allow). */
    readonly remoteMs: number;
    /** When the remote steps were decided, epoch ms. */
    readonly startedAt: number;
    readonly steps: readonly Step[];
}

export interface PhaseSamples {
    readonly name: string;
    readonly hearth: readonly HearthPhase[];
    readonly ansible: readonly AnsibleRun[];
}

const s = (ms: number) => (ms / 1000).toFixed(2);
const x = (r: number) => (Number.isFinite(r) ? `${r.toFixed(1)}×` : "∞");

function counts(xs: readonly number[]): string {
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    return lo === hi ? String(lo) : `${lo}–${hi}`;
}

export function phaseTable(phases: readonly PhaseSamples[]): string {
    const rows = phases.map((p) => {
        const total = median(p.hearth.map((h) => h.programMs + h.remoteMs));
        const remote = median(p.hearth.map((h) => h.remoteMs));
        const program = median(p.hearth.map((h) => h.programMs));
        const ansible = median(p.ansible.map((a) => a.wallMs));
        return [
            `${p.name}${p.hearth.length > 1 ? ` (median of ${p.hearth.length})` : ""}`,
            s(total), s(program), s(remote), s(ansible),
            x(ansible / total), x(ansible / remote),
            counts(p.hearth.map((h) => h.steps.length)),
            counts(p.ansible.map((a) => a.remoteCommands)),
            counts(p.ansible.map((a) => a.recap.changed)),
        ];
    });
    return table([
        "phase", "hearth s (total)", "hearth: program s", "hearth: remote steps s", "Ansible s",
        "Ansible / hearth (total)", "Ansible / hearth (remote steps)", "hearth SSH sessions", "Ansible ssh+sftp processes", "Ansible tasks changed",
    ], rows);
}

/**
 * SSH sessions per component instance: in the phase that created it, in the phases where it was the one changed, and
 * in the no-op phases (every instance, including those that opened none).
 */
export function roundTripTable(fresh: HearthPhase, updates: readonly HearthPhase[], noops: readonly HearthPhase[]): string {
    const perComponent = (steps: readonly Step[]) => {
        const m = new Map<string, number>();
        for (const st of steps) m.set(st.component, (m.get(st.component) ?? 0) + 1);
        return m;
    };
    const kindOf = (component: string) => component.split("/")[0];
    const created = perComponent(fresh.steps);
    const kinds = [...new Set([...created.keys()].map(kindOf))];
    const rows = kinds.map((kind) => {
        const instances = [...created.keys()].filter((c) => kindOf(c) === kind);
        const create = instances.map((c) => created.get(c)!);
        const update = updates.flatMap((u) => [...perComponent(u.steps)].filter(([c]) => kindOf(c) === kind).map(([, n]) => n));
        const unchanged = noops.flatMap((n) => instances.map((c) => perComponent(n.steps).get(c) ?? 0));
        return [kind, `${counts(create)} (${instances.length} created)`, update.length ? counts(update) : "not measured", counts(unchanged)];
    });
    rows.push(["whole site, no-op", "", "", counts(noops.map((n) => n.steps.length))]);
    return table(["component", "SSH sessions to create", "SSH sessions to update", "SSH sessions unchanged"], rows);
}

/** How the fresh converge's steps overlapped: what the engine's concurrency bought, and what got in its way. */
export function concurrencyLine(fresh: HearthPhase): string {
    const busy = fresh.steps.reduce((a, st) => a + (st.endMs - st.startMs), 0);
    const longest = fresh.steps.reduce((a, st) => Math.max(a, st.endMs - st.startMs), 0);
    const retries = fresh.steps.reduce((a, st) => a + st.dialRetries, 0);
    return `hearth fresh converge: ${fresh.steps.length} steps in ${s(fresh.remoteMs)} s, ${(busy / fresh.remoteMs).toFixed(1)} running at once on average; ` +
        `longest step ${s(longest)} s; ${retries} SSH dial${retries === 1 ? "" : "s"} refused by sshd and retried.`;
}

/** The floor measured in the same run (floor.ts): what this machine needs at least, beside which hearth's remote time is read. */
export interface FloorSamples {
    /** One session doing the whole fresh converge, fully batched, on a third fresh host. */
    readonly batchedMs: number;
    readonly batchedRetries: number;
    /** One session changing one service (file, daemon-reload, restart), per sample. */
    readonly oneChangeMs: readonly number[];
    /** One session running `true`, and `sessions` of them at once (the dial cost of one session per resource). */
    readonly trueOneMs: number;
    readonly trueAllMs: number;
    readonly trueAllRetries: number;
    readonly sessions: number;
}

export const FRESH_FLOOR_TARGET = 1.3;
export const ANSIBLE_TARGET = 10;

const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : "∞");

/** hearth's remote time against the floor and its total against Ansible, with the targets of the speed issue. */
export function floorTable(fresh: PhaseSamples, noop: PhaseSamples, oneChange: PhaseSamples, f: FloorSamples): { table: string; targets: string[] } {
    const oneFloor = median(f.oneChangeMs);
    const targets: string[] = [];
    const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
    const rows = ([["fresh", fresh], ["no-op", noop], ["one change", oneChange]] as const).map(([kind, p]) => {
        const remote = median(p.hearth.map((h) => h.remoteMs));
        const total = median(p.hearth.map((h) => h.programMs + h.remoteMs));
        const ansible = median(p.ansible.map((a) => a.wallMs));
        let target: string;
        if (kind === "fresh") {
            const ok = remote <= FRESH_FLOOR_TARGET * f.batchedMs;
            target = `remote ≤ ${FRESH_FLOOR_TARGET}× floor: ${verdict(ok)}`;
            targets.push(`target fresh remote ≤ ${FRESH_FLOOR_TARGET}× the floor: ${verdict(ok)}: hearth remote ${s(remote)} s, floor ${s(f.batchedMs)} s ` +
                `(${ratio(remote, f.batchedMs)}; ${s(FRESH_FLOOR_TARGET * f.batchedMs)} s allowed).`);
        } else {
            const ok = ansible >= ANSIBLE_TARGET * total;
            target = `≥ ${ANSIBLE_TARGET}× Ansible (total): ${verdict(ok)}`;
            targets.push(`target ${kind} ≥ ${ANSIBLE_TARGET}× Ansible in total: ${verdict(ok)}: Ansible ${s(ansible)} s / hearth ${s(total)} s ` +
                `(program ${s(median(p.hearth.map((h) => h.programMs)))} s + remote ${s(remote)} s) = ${x(ansible / total)}.`);
        }
        return [
            `${p.name}${p.hearth.length > 1 ? ` (median of ${p.hearth.length})` : ""}`,
            s(remote), ratio(remote, f.batchedMs), kind === "one change" ? ratio(remote, oneFloor) : "", s(total), s(ansible), x(ansible / total), target,
        ];
    });
    return {
        table: table([
            "phase", "hearth remote s", `÷ batched floor (${s(f.batchedMs)} s)`, `÷ one-service floor (${s(oneFloor)} s)`,
            "hearth total s", "Ansible s", "Ansible / hearth (total)", "target",
        ], rows),
        targets,
    };
}

/** How the floor was measured, in one paragraph under the table. */
export function floorLines(f: FloorSamples, services: number): string[] {
    return [
        `Floor, same run: one SSH session on a third fresh host prepared like hearth's, writing the ${services} services' unit files (hearth's bytes), ` +
        `one daemon-reload, one \`systemctl enable --no-reload --now\` of all ${services}, with the 2 datasets and the role, database and pg_hba line ` +
        `(one psql session, pg_reload_conf) run beside it: ${s(f.batchedMs)} s${f.batchedRetries ? ` (${f.batchedRetries} dials refused and retried)` : ""}; ` +
        `then checked to be in hearth's state. One service changed in one session (file, daemon-reload, restart): ` +
        `${s(median(f.oneChangeMs))} s (median of ${f.oneChangeMs.length}).`,
        `Dial floor on hearth's host before its converge: one SSH session running \`true\` ${s(f.trueOneMs)} s; ` +
        `${f.sessions} at once ${s(f.trueAllMs)} s (${f.trueAllRetries} dials refused and retried).`,
    ];
}
