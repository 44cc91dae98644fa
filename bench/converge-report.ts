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
