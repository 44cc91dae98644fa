// Where a converge's remote time goes, read from the host's own journal over the converge's window: when sshd accepted
// the logins, how many daemon-reloads PID 1 ran and when, when the services started; and from the steps, when the local
// ssh clients were let go to dial (each is started before the clock and waits; see apply.ts) and which step finished last.
import type { TestHost } from "../tests/host/harness";
import { table } from "./machine";

export interface RemoteProfile {
    readonly label: string;
    readonly wallMs: number;
    /** Logins sshd accepted, and when the last one was (ms from the start of the window). */
    readonly logins: number;
    readonly lastLoginMs?: number;
    /** `Reloading.` lines of PID 1 (systemd 252 logs one per daemon-reload), first and last. */
    readonly reloads: number;
    readonly firstReloadMs?: number;
    readonly lastReloadMs?: number;
    /** `Started bench-app-…` lines of PID 1, first and last. */
    readonly started: number;
    readonly firstStartMs?: number;
    readonly lastStartMs?: number;
    /** When the local ssh clients were started (a process spawn each; the provider dials from goroutines instead). */
    readonly clientsFromMs: number;
    readonly clientsToMs: number;
    /** The step that finished last. */
    readonly lastStep: StepSpan;
}

/** The part of a step the profile needs. */
export interface StepSpan {
    readonly resource: string;
    readonly startMs: number;
    readonly endMs: number;
}

const LINE = /^(\d+(?:\.\d+)?) \S+ ([^:[\s]+)(?:\[(\d+)\])?: (.*)$/;

/** Reads `journalctl -o short-unix` of `h` between `startedAt` and `startedAt + wallMs` (epoch ms; same clock as the host's). */
export async function remoteProfile(h: TestHost, label: string, startedAt: number, wallMs: number, steps: readonly StepSpan[]): Promise<RemoteProfile> {
    if (!steps.length) throw new Error("remoteProfile: no steps");
    if (!Number.isFinite(startedAt) || !Number.isFinite(wallMs) || wallMs < 0) throw new Error(`remoteProfile: bad window ${startedAt} + ${wallMs} ms`);
    const since = Math.floor(startedAt / 1000) - 1;
    const r = await h.exec(`journalctl -q -o short-unix --no-pager --since @${since}`);
    if (r.code !== 0) throw new Error(`${h.name}: journalctl exited ${r.code}: ${r.stderr}`);
    const logins: number[] = [];
    const reloads: number[] = [];
    const starts: number[] = [];
    for (const l of r.stdout.split("\n")) {
        const m = l.match(LINE);
        if (!m) continue;
        const at = Number(m[1]) * 1000 - startedAt;
        if (at < 0 || at > wallMs + 50) continue;
        const [, , ident, pid, msg] = m;
        if (ident === "sshd" && msg.startsWith("Accepted publickey")) logins.push(at);
        else if (ident === "systemd" && pid === "1" && msg === "Reloading.") reloads.push(at);
        else if (ident === "systemd" && pid === "1" && /^Started bench-app-\d+\.service\b/.test(msg)) starts.push(at);
    }
    const last = (xs: number[]) => (xs.length ? Math.max(...xs) : undefined);
    const first = (xs: number[]) => (xs.length ? Math.min(...xs) : undefined);
    return {
        label, wallMs,
        logins: logins.length, lastLoginMs: last(logins),
        reloads: reloads.length, firstReloadMs: first(reloads), lastReloadMs: last(reloads),
        started: starts.length, firstStartMs: first(starts), lastStartMs: last(starts),
        clientsFromMs: Math.min(...steps.map((st) => st.startMs)),
        clientsToMs: Math.max(...steps.map((st) => st.startMs)),
        lastStep: steps.reduce((a, b) => (b.endMs > a.endMs ? b : a)),
    };
}

const s = (ms?: number) => (ms === undefined ? "–" : (ms / 1000).toFixed(2));
const span = (a?: number, b?: number) => (a === undefined ? "–" : `${s(a)}–${s(b)}`);

export function profileTable(profiles: readonly RemoteProfile[]): string {
    return table(
        ["remote work (s from the first dial)", "done s", "dials let go s", "logins sshd accepted", "last login s", "daemon-reloads (PID 1)",
            "reloads from–to s", "bench-app services started", "started from–to s", "last step to finish (from–to s)"],
        profiles.map((p) => [
            p.label, s(p.wallMs), span(p.clientsFromMs, p.clientsToMs), String(p.logins), s(p.lastLoginMs), String(p.reloads),
            span(p.firstReloadMs, p.lastReloadMs), String(p.started), span(p.firstStartMs, p.lastStartMs),
            `${p.lastStep.resource} (${span(p.lastStep.startMs, p.lastStep.endMs)})`,
        ]),
    );
}
