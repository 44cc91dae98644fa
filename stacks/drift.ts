// Drift checks over SSH: groups the checks of a program's converges by host (core/check.ts derives each from its
// converge), runs each host's in one SSH session with the host key pinned, and reports what differs.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkOfConverge, parseCheckOutput, renderHostCheck, reportName, ResourceCheck, ResourceReport, unquote, unwrapCommand } from "../components";

/** A registered remote command as the check reads it: inputs resolved, secrets unwrapped, unknown values as `unknown`. */
export interface ConvergeCommand {
    /** Who it is for in the report, e.g. `hearth:systemd:Service radicale`. */
    readonly resource: string;
    readonly create: unknown;
    readonly stdin: unknown;
    readonly connection: unknown;
}

/** The value a resource input has when it is not known offline (it waits on something only the engine knows). */
export const UNKNOWN = Symbol("unknown");

export interface Endpoint {
    readonly address: string;
    readonly port: number;
    readonly user: string;
    /**
     * Undefined when it is not known offline (a container's key, born on its parent): pinned from what the parent
     * host's check reports (`hearth_check_hostkey`), or the host cannot be checked.
     */
    readonly hostKey?: string;
}

export interface HostTarget extends Endpoint {
    readonly proxy?: Endpoint;
}

export interface HostChecks {
    /** How the report names the host: its name from the program's `hosts` output, else user@address:port. */
    readonly name: string;
    /** Undefined when the connection is not known offline: the host cannot be checked. */
    readonly target?: HostTarget;
    readonly sudo: boolean;
    readonly checks: ResourceCheck[];
    /** Why (part of) the host cannot be checked: a connection or a script unknown offline. */
    readonly problems: string[];
}

export interface HostReport {
    readonly host: string;
    readonly target?: string;
    readonly status: "clean" | "drift" | "error";
    readonly error?: string;
    readonly seconds: number;
    readonly resources: ResourceReport[];
}

function endpoint(c: unknown): Endpoint | undefined {
    if (!c || typeof c !== "object") return undefined;
    const o = c as Record<string, unknown>;
    if (typeof o.host !== "string" || (typeof o.hostKey !== "string" && o.hostKey !== UNKNOWN)) return undefined;
    const port = o.port === undefined ? 22 : o.port;
    if (typeof port !== "number") return undefined;
    const user = o.user === undefined ? "root" : o.user;
    if (typeof user !== "string") return undefined;
    return { address: o.host, port, user, ...(typeof o.hostKey === "string" ? { hostKey: o.hostKey } : {}) };
}

function target(connection: unknown): HostTarget | undefined {
    const e = endpoint(connection);
    if (!e) return undefined;
    const p = (connection as Record<string, unknown>).proxy;
    if (p === undefined) return e;
    const proxy = endpoint(p);
    return proxy ? { ...e, proxy } : undefined;
}

const describe = (t: Endpoint) => `${t.user}@${t.address}:${t.port}`;

/**
 * The checks of `commands` by the host they reach, in the order the program registered them. `names` maps
 * `user@address:port` to a host's name (a site's `hosts` output, inverted).
 */
export function checksByHost(commands: readonly ConvergeCommand[], names: ReadonlyMap<string, string> = new Map()): HostChecks[] {
    const hosts = new Map<string, { name: string; target?: HostTarget; sudo: boolean; checks: ResourceCheck[]; problems: string[] }>();
    const unknownHost = (resource: string) => {
        const h = hosts.get("?") ?? { name: "(a host whose connection is unknown offline)", sudo: false, checks: [], problems: [] };
        hosts.set("?", h);
        h.problems.push(`${resource}: its connection (address or host key) is not known offline`);
    };
    for (const c of commands) {
        if (c.create === undefined) continue; // a lifecycle command: nothing to check
        const t = target(c.connection);
        if (!t) {
            unknownHost(c.resource);
            continue;
        }
        const id = `${describe(t)} ${t.hostKey ?? "?"}${t.proxy ? ` via ${describe(t.proxy)} ${t.proxy.hostKey ?? "?"}` : ""}`;
        const h = hosts.get(id) ?? { name: names.get(describe(t)) ?? describe(t), target: t, sudo: false, checks: [], problems: [] };
        hosts.set(id, h);
        if (c.create === UNKNOWN || typeof c.create !== "string") {
            h.problems.push(`${c.resource}: its script is not known offline (it waits on a value only the engine knows)`);
            continue;
        }
        const w = unwrapCommand(c.create);
        if (!w) continue;
        const stdin = c.stdin === UNKNOWN ? null : typeof c.stdin === "string" ? c.stdin : undefined;
        const check = checkOfConverge(c.resource, w.script, w.sudo, stdin);
        if (!check) continue;
        h.checks.push(check);
        h.sudo ||= w.sudo;
    }
    return [...hosts.values()].map((h) => ({ ...h }));
}

export interface SshAuth {
    /** A private key file for ssh's -i; without it the SSH agent (SSH_AUTH_SOCK) is used. Never read by hearth. */
    readonly identity?: string;
    /** Per host, for the whole session. @default 120 */
    readonly timeoutSeconds?: number;
}

/** Throws unless `auth` can work: an identity file that exists, or an agent. */
export function checkAuth(auth: SshAuth): void {
    if (auth.identity !== undefined) {
        let st: fs.Stats;
        try {
            st = fs.statSync(auth.identity);
        } catch {
            throw new Error(`--identity ${JSON.stringify(auth.identity)}: no such file (a private key file, as ssh -i takes it)`);
        }
        if (!st.isFile()) throw new Error(`--identity ${JSON.stringify(auth.identity)}: not a regular file (a private key file, as ssh -i takes it)`);
    } else if (!process.env.SSH_AUTH_SOCK) {
        throw new Error("no SSH key: pass --identity FILE (a private key file) or run an SSH agent (SSH_AUTH_SOCK) holding the hosts' key");
    }
}

/** known_hosts' name for an endpoint: the bare address on port 22, `[address]:port` otherwise. */
function knownName(e: Endpoint): string {
    return e.port === 22 ? e.address : `[${e.address}]:${e.port}`;
}

/** An ssh_config value: refuses anything that could break out of its line or be read as two words. */
function cfg(v: string | number): string {
    const s = String(v);
    if (!/^[A-Za-z0-9_.:@%+\/=-]+$/.test(s) || s.startsWith("-")) throw new Error(`refusing ${JSON.stringify(s)} in an ssh config line`);
    return s;
}

/** The ssh client setup for a target, in a fresh private directory: the host keys pinned and nothing else trusted. */
function sshSetup(dir: string, t: HostTarget, auth: SshAuth): string[] {
    // Every value is checked before anything is written: a hostile address never reaches known_hosts either.
    for (const e of [t, ...(t.proxy ? [t.proxy] : [])]) [e.address, e.port, e.user].forEach(cfg);
    const known = [t, ...(t.proxy ? [t.proxy] : [])].map((e) => {
        const key = e.hostKey!.trim().split(/\s+/).slice(0, 2).join(" ");
        return `${knownName(e)} ${key}`;
    });
    fs.writeFileSync(path.join(dir, "known_hosts"), known.join("\n") + "\n", { mode: 0o600 });
    const common = [
        "  BatchMode yes",
        "  StrictHostKeyChecking yes",
        `  UserKnownHostsFile ${cfg(path.join(dir, "known_hosts"))}`,
        "  GlobalKnownHostsFile /dev/null",
        "  UpdateHostKeys no",
        "  ConnectTimeout 15",
        "  ServerAliveInterval 15",
        "  ForwardAgent no",
        "  ClearAllForwardings yes",
        "  LogLevel ERROR",
        ...(auth.identity !== undefined ? ["  IdentitiesOnly yes", `  IdentityFile ${cfg(path.resolve(auth.identity))}`] : []),
    ];
    const lines = ["Host hearth-target", `  HostName ${cfg(t.address)}`, `  Port ${cfg(t.port)}`, `  User ${cfg(t.user)}`, ...(t.proxy ? ["  ProxyJump hearth-proxy"] : []), ...common];
    if (t.proxy) lines.push("Host hearth-proxy", `  HostName ${cfg(t.proxy.address)}`, `  Port ${cfg(t.proxy.port)}`, `  User ${cfg(t.proxy.user)}`, ...common);
    fs.writeFileSync(path.join(dir, "config"), lines.join("\n") + "\n", { mode: 0o600 });
    return ["-F", path.join(dir, "config"), "hearth-target"];
}

/** Runs one host's checks in one SSH session; never throws (a host that cannot be checked is an error report). */
export async function runHostChecks(h: HostChecks, auth: SshAuth): Promise<HostReport> {
    const started = Date.now();
    const done = (status: HostReport["status"], resources: ResourceReport[], error?: string): HostReport => ({
        host: h.name,
        ...(h.target ? { target: describe(h.target) } : {}),
        status,
        ...(error !== undefined ? { error } : {}),
        seconds: (Date.now() - started) / 1000,
        resources,
    });
    if (!h.target) return done("error", [], h.problems.join("; "));
    const unpinned = [h.target, ...(h.target.proxy ? [h.target.proxy] : [])].filter((e) => e.hostKey === undefined);
    if (unpinned.length) return done("error", [], `the host key of ${unpinned.map(describe).join(" and ")} is not known offline, and no host checked before it reported one (is its container's parent host in this check?)`);
    if (h.checks.length === 0) return done(h.problems.length ? "error" : "clean", [], h.problems.length ? h.problems.join("; ") : undefined);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-check-"));
    try {
        let argv: string[];
        try {
            argv = sshSetup(dir, h.target, auth);
        } catch (e) {
            return done("error", [], `cannot check ${JSON.stringify(describe(h.target))}: ${(e as Error).message}`);
        }
        // The host ends the check itself when the time is up (a session cut on this side does not stop it there).
        const seconds = auth.timeoutSeconds ?? 120;
        const bash = `timeout --kill-after=5 ${seconds} bash --noprofile --norc -s`;
        const remote = h.sudo ? `sudo -n -- ${bash}` : bash;
        let script: string;
        try {
            script = renderHostCheck(h.name, h.checks);
        } catch (e) {
            return done("error", [], `its check cannot be built: ${(e as Error).message}`);
        }
        const r = await sshRun(argv, remote, script, (seconds + 10) * 1000);
        const resources = parseCheckOutput(r.stdout, h.checks.map((c) => c.resource));
        // What came before a cut or a timeout is kept: the drift found so far is still reported.
        if (r.code === 255 || r.code === null) return done("error", resources, `cannot reach ${describe(h.target)} over SSH: ${[r.reason, lastLines(r.stderr)].filter(Boolean).join(": ") || `ssh exited ${r.code}`}`);
        if (r.code === 124 || r.code === 137) return done("error", resources, `the check did not finish within ${seconds} s on ${describe(h.target)} (the host ended it): ${lastLines(r.stderr)}`);
        if (r.code !== 0) return done("error", resources, `the check script exited ${r.code} on ${describe(h.target)}: ${lastLines(r.stderr)}`);
        const missing = h.checks.filter((c) => !resources.some((x) => x.resource === reportName(c.resource)));
        if (missing.length) return done("error", resources, `no report for ${missing.map((c) => c.resource).join(", ")}: ${lastLines(r.stderr)}`);
        const broken = resources.filter((x) => x.error !== undefined);
        const problems = [...h.problems, ...broken.map((x) => `${x.resource}: its checks stopped with status ${x.error}`)];
        if (problems.length) return done("error", resources, `${problems.join("; ")}${broken.length ? `: ${lastLines(r.stderr)}` : ""}`);
        return done(resources.some((x) => x.drift.length > 0) ? "drift" : "clean", resources);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function lastLines(s: string, n = 5): string {
    return s.trim().split("\n").slice(-n).join(" | ");
}

function sshRun(argv: string[], remote: string, input: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; reason?: string }> {
    return new Promise((resolve) => {
        const child = spawn("ssh", [...argv, remote], { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        let reason: string | undefined;
        const timer = setTimeout(() => {
            reason = `no answer within ${timeoutMs / 1000} s`;
            child.kill("SIGKILL");
        }, timeoutMs);
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.stdin.on("error", () => undefined);
        child.on("error", (e) => {
            reason = `cannot run ssh: ${e.message}`;
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code: reason ? null : code, stdout, stderr, reason });
        });
        child.stdin.end(input);
    });
}

/**
 * Checks every host, each in one session, all at once: first those whose host keys are known offline, then those
 * whose keys a checked host reported (a container's, recorded by its parent's converge), pinned to that key.
 */
export async function checkAll(hosts: readonly HostChecks[], auth: SshAuth): Promise<HostReport[]> {
    const pinned = (t: Endpoint | undefined) => !t || t.hostKey !== undefined;
    const ready = (h: HostChecks) => pinned(h.target) && pinned(h.target?.proxy);
    const first = await Promise.all(hosts.filter(ready).map((h) => runHostChecks(h, auth)));
    // A key counts only from the host and the resource whose check the program gave that address (the container's
    // converge on its parent): another host printing a key for it is ignored, and two declared parents pin nothing.
    const declared = new Map<string, { host: string; resource: string }[]>();
    for (const h of hosts) {
        for (const c of h.checks) {
            for (const l of c.lines) {
                const m = /^hearth_check_hostkey (\S+) /.exec(l);
                if (m) declared.set(unquote(m[1]), [...(declared.get(unquote(m[1])) ?? []), { host: h.name, resource: reportName(c.resource) }]);
            }
        }
    }
    const learned = new Map<string, string>();
    for (const r of first) {
        for (const x of r.resources) {
            for (const k of x.hostKeys) {
                const parents = declared.get(k.address) ?? [];
                if (parents.length === 1 && parents[0].host === r.host && parents[0].resource === x.resource) learned.set(k.address, k.key);
            }
        }
    }
    const pin = (e: Endpoint): Endpoint => (e.hostKey === undefined && learned.has(e.address) ? { ...e, hostKey: learned.get(e.address) } : e);
    const later = hosts.filter((h) => !ready(h)).map((h) => ({ ...h, target: h.target && { ...pin(h.target), ...(h.target.proxy ? { proxy: pin(h.target.proxy) } : {}) } }));
    const second = await Promise.all(later.map((h) => runHostChecks(h, auth)));
    const order = new Map(hosts.map((h, i) => [h.name, i]));
    return [...first, ...second].sort((a, b) => (order.get(a.host) ?? 0) - (order.get(b.host) ?? 0));
}

/** 0 when every host matches, 1 on drift, 2 when a host (or a resource on it) could not be checked. */
export function exitCode(reports: readonly HostReport[]): 0 | 1 | 2 {
    if (reports.some((r) => r.status === "error")) return 2;
    return reports.some((r) => r.status === "drift") ? 1 : 0;
}

/** The report as tables, one per host. */
export function formatReports(reports: readonly HostReport[]): string {
    const out: string[] = [];
    for (const r of reports) {
        const drift = r.resources.flatMap((x) => x.drift.map((d) => [x.resource, d.what, d.desired, d.found]));
        const head = `${r.host}${r.target && r.target !== r.host ? ` (${r.target})` : ""}`;
        const what = r.status === "error" ? `cannot be checked: ${r.error}` : drift.length ? `${drift.length} difference(s) in ${r.resources.length} resource(s)` : `matches (${r.resources.length} resource(s))`;
        out.push(`${head}: ${what} [${r.seconds.toFixed(2)} s]`);
        if (drift.length) out.push(...table([["RESOURCE", "WHAT", "DESIRED", "FOUND"], ...drift]).map((l) => "  " + l));
        const info = r.resources.flatMap((x) => x.info.map((i) => `  ${x.resource}: ${i.what}: ${i.value}`));
        if (info.length) out.push("  info:", ...info.map((l) => "  " + l));
    }
    return out.join("\n");
}

function table(rows: string[][]): string[] {
    const widths = rows[0].map((_, i) => Math.min(60, Math.max(...rows.map((r) => r[i].length))));
    return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  "));
}
