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

/** SSH sessions per component instance, for the phase where it was created and the phases where it was updated. */
export function roundTripTable(fresh: HearthPhase, updates: readonly { readonly what: string; readonly phase: HearthPhase }[], noop: HearthPhase): string {
    const kinds = new Map<string, { create: number[]; update: number[] }>();
    const perComponent = (steps: readonly Step[]) => {
        const m = new Map<string, number>();
        for (const st of steps) m.set(st.component, (m.get(st.component) ?? 0) + 1);
        return m;
    };
    const kindOf = (component: string) => component.split("/")[0];
    for (const [component, n] of perComponent(fresh.steps)) {
        const k = kinds.get(kindOf(component)) ?? { create: [], update: [] };
        k.create.push(n);
        kinds.set(kindOf(component), k);
    }
    for (const u of updates) {
        for (const [component, n] of perComponent(u.phase.steps)) kinds.get(kindOf(component))?.update.push(n);
    }
    const rows = [...kinds].map(([kind, k]) => [kind, `${counts(k.create)} (${k.create.length} created)`, k.update.length ? counts(k.update) : "not measured", "0"]);
    rows.push(["whole site, no-op", "", "", String(noop.steps.length)]);
    return table(["component", "SSH sessions to create", "SSH sessions to update", "SSH sessions unchanged"], rows);
}

/** When each of the fresh converge's steps ran: how much the concurrency bought over running them one by one. */
export function concurrencyLine(fresh: HearthPhase): string {
    const serial = fresh.steps.reduce((a, st) => a + (st.endMs - st.startMs), 0);
    const longest = fresh.steps.reduce((a, st) => Math.max(a, st.endMs - st.startMs), 0);
    const retries = fresh.steps.reduce((a, st) => a + st.dialRetries, 0);
    return `hearth fresh converge: ${fresh.steps.length} steps in ${s(fresh.remoteMs)} s concurrently (${s(serial)} s if run one after another; ` +
        `longest step ${s(longest)} s; ${retries} SSH dial${retries === 1 ? "" : "s"} refused by sshd and retried).`;
}
