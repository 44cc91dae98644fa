// What a test host holds on the build machine (index lock, cgroups, veth, rootfs) and the synchronous teardown that releases all of it.
//
// Synchronous on purpose: teardown must also run from process 'exit' and signal handlers, where nothing async completes.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { TEST_NET } from "./ssh";

/** Per-host locks live here, so test processes running at the same time never share an index, veth or address. */
export const LOCK_DIR = process.env.HEARTH_LOCK_DIR || "/run/hearth-test";

/** Everything one host owns on this machine; written to its lock file so a later run can reap it after a crash. */
export interface HostRecord {
    readonly index: number;
    readonly name: string;
    /** `hearth-<index>`: nspawn's machine name, and `ve-<machine>` is the host end of its veth. */
    readonly machine: string;
    readonly root: string;
    readonly log: string;
    readonly veth: string;
    /** cgroup directories this harness created for the host (one per mounted hierarchy it must use). */
    readonly cgroups: string[];
    readonly ownerPid: number;
    readonly ownerStart: string;
    nspawnPid?: number;
    nspawnStart?: string;
}

export function sleepSync(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function procStat(pid: number): { state: string; start: string } | undefined {
    try {
        const s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
        return { state: f[0], start: f[19] };
    } catch {
        return undefined;
    }
}

/** The kernel's start time of a process: with the PID it identifies the process even after PID reuse. */
export function procStart(pid: number): string | undefined {
    return procStat(pid)?.start;
}

/** Whether the process `pid` that started at `start` still runs (a zombie has exited). */
export function isAlive(pid: number | undefined, start: string | undefined): boolean {
    if (!pid || !start) return false;
    const st = procStat(pid);
    return st !== undefined && st.start === start && st.state !== "Z" && st.state !== "X";
}

export function run(cmd: string, args: string[]): { status: number | null; out: string } {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
}

/** Mount points of the cgroup hierarchies a container's PID 1 needs: the cgroup2 one and, on hybrid hosts, name=systemd. */
export function cgroupRoots(): string[] {
    const roots: string[] = [];
    for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
        const [pre, post] = line.split(" - ");
        if (!post) continue;
        const mountPoint = pre.split(" ")[4];
        const [fstype, , superOpts = ""] = post.split(" ");
        if (fstype === "cgroup2" || (fstype === "cgroup" && superOpts.split(",").includes("name=systemd"))) roots.push(mountPoint);
    }
    return roots;
}

export function ensureBlackhole(): void {
    const has = () => run("ip", ["-4", "route", "show", "type", "blackhole", TEST_NET]).out.includes(TEST_NET);
    if (has()) return;
    // Another test process may add it at the same moment; only its absence afterwards is an error.
    const r = run("ip", ["route", "add", "blackhole", TEST_NET]);
    if (!has()) throw new Error(`cannot add the safety route 'blackhole ${TEST_NET}': ${r.out}`);
}

function lockPath(index: number): string {
    return path.join(LOCK_DIR, `${index}.json`);
}

export function saveRecord(rec: HostRecord): void {
    const tmp = `${lockPath(rec.index)}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(rec));
    fs.renameSync(tmp, lockPath(rec.index));
}

function netInUse(index: number, veth: string): boolean {
    return fs.existsSync(`/sys/class/net/${veth}`) || run("ip", ["-4", "route", "show", `10.231.${index}.0/24`]).out !== "";
}

/**
 * Claims a free host index (1–254) by creating its lock file exclusively. A lock whose owner process is gone is
 * reaped first (its container powered off, its cgroups, veth and rootfs removed), so a crashed run heals the next.
 */
export function claimIndex(wanted: number | undefined, name: string, hostsDir: string): HostRecord {
    fs.mkdirSync(LOCK_DIR, { recursive: true, mode: 0o700 });
    const candidates = wanted !== undefined ? [wanted] : Array.from({ length: 254 }, (_, i) => i + 1);
    const ownerStart = procStart(process.pid);
    if (!ownerStart) throw new Error("cannot read this process's start time from /proc");
    const reasons: string[] = [];
    for (const index of candidates) {
        const machine = `hearth-${index}`;
        const rec: HostRecord = {
            index, name, machine,
            root: path.join(hostsDir, machine),
            log: path.join(hostsDir, `${machine}.log`),
            veth: `ve-${machine}`,
            cgroups: cgroupRoots().map((r) => path.join(r, `nspawn-${machine}`)),
            ownerPid: process.pid,
            ownerStart,
        };
        for (let attempt = 0; attempt < 2; attempt++) {
            try {
                fs.writeFileSync(lockPath(index), JSON.stringify(rec), { flag: "wx" });
            } catch (e) {
                if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
                const other = readRecord(index);
                if (other && isAlive(other.ownerPid, other.ownerStart)) { reasons.push(`index ${index} is used by test process ${other.ownerPid}`); break; }
                const problems = other ? teardownRecord(other) : (fs.rmSync(lockPath(index), { force: true }), []);
                if (problems.length) { reasons.push(`index ${index}: stale host could not be reaped: ${problems.join("; ")}`); break; }
                continue;
            }
            if (netInUse(index, rec.veth)) {
                fs.rmSync(lockPath(index), { force: true });
                reasons.push(`index ${index}: ${rec.veth} or a route to 10.231.${index}.0/24 exists outside this harness`);
                break;
            }
            return rec;
        }
    }
    throw new Error(`no free test host index: ${reasons.slice(0, 5).join("; ")}`);
}

function readRecord(index: number): HostRecord | undefined {
    try {
        return JSON.parse(fs.readFileSync(lockPath(index), "utf8")) as HostRecord;
    } catch {
        return undefined;
    }
}

/** All cgroup directories under `dir`, deepest first. */
function cgroupTree(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    const out: string[] = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) out.push(...cgroupTree(path.join(dir, e.name)));
    }
    out.push(dir);
    return out;
}

/** Removes an empty cgroup tree, deepest first; returns what could not be removed. */
export function removeCgroup(dir: string): string[] {
    const problems: string[] = [];
    for (const d of cgroupTree(dir)) {
        try { fs.rmdirSync(d); } catch (e) { problems.push(`cannot remove cgroup ${d}: ${(e as Error).message}`); }
    }
    return problems;
}

/** PIDs in a cgroup tree: the container's processes, all descendants of the nspawn this harness started. */
export function cgroupPids(dirs: readonly string[]): number[] {
    const pids = new Set<number>();
    for (const d of dirs) {
        for (const c of cgroupTree(d)) {
            try {
                for (const p of fs.readFileSync(path.join(c, "cgroup.procs"), "utf8").split("\n")) if (p) pids.add(Number(p));
            } catch { /* removed meanwhile */ }
        }
    }
    return [...pids];
}

function waitUntil(cond: () => boolean, ms: number): boolean {
    const end = Date.now() + ms;
    while (!cond()) {
        if (Date.now() > end) return false;
        sleepSync(50);
    }
    return true;
}

/** Mount points at or under `dir` as this process's mount namespace sees them, deepest first. */
export function mountsUnder(dir: string): string[] {
    return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")
        .map((l) => l.split(" ")[4])
        .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
        .sort((a, b) => b.length - a.length);
}

/**
 * Asks the container to power off without waiting (so several hosts halt at once); false when it is not running.
 * nspawn turns SIGTERM into SIGRTMIN+3 for the container's systemd: an orderly halt.
 */
export function requestHalt(rec: HostRecord): boolean {
    if (!isAlive(rec.nspawnPid, rec.nspawnStart)) return false;
    try { process.kill(rec.nspawnPid!, "SIGTERM"); } catch { return false; }
    return true;
}

/**
 * Powers the container off and removes everything the host held. Returns what could not be cleaned (empty when
 * all is gone). Every process it signals is the nspawn this harness started or inside that nspawn's cgroups.
 */
export function teardownRecord(rec: HostRecord, haltTimeoutMs = 20_000): string[] {
    const problems: string[] = [];
    const nspawnAlive = () => isAlive(rec.nspawnPid, rec.nspawnStart);
    if (requestHalt(rec)) waitUntil(() => !nspawnAlive(), haltTimeoutMs);
    if (nspawnAlive() || cgroupPids(rec.cgroups).length > 0) {
        for (const cg of rec.cgroups) {
            try { fs.writeFileSync(path.join(cg, "cgroup.kill"), "1"); } catch { /* v1 hierarchies have no cgroup.kill */ }
        }
        for (const pid of cgroupPids(rec.cgroups)) {
            try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
        }
        if (nspawnAlive()) {
            try { process.kill(rec.nspawnPid!, "SIGKILL"); } catch { /* gone */ }
        }
        if (!waitUntil(() => !nspawnAlive() && cgroupPids(rec.cgroups).length === 0, 10_000)) {
            problems.push(`processes still running in ${rec.cgroups.join(", ")}: ${cgroupPids(rec.cgroups).join(" ")}`);
        }
    }
    for (const cg of rec.cgroups) problems.push(...removeCgroup(cg));
    if (fs.existsSync(`/sys/class/net/${rec.veth}`)) {
        const r = run("ip", ["link", "del", rec.veth]);
        if (r.status !== 0 && fs.existsSync(`/sys/class/net/${rec.veth}`)) problems.push(`cannot delete ${rec.veth}: ${r.out}`);
    }
    for (const m of mountsUnder(rec.root)) {
        const r = run("umount", ["-l", m]);
        if (r.status !== 0) problems.push(`cannot unmount ${m}: ${r.out}`);
    }
    if (mountsUnder(rec.root).length === 0) {
        fs.rmSync(rec.root, { recursive: true, force: true });
    } else {
        problems.push(`not removing ${rec.root}: still mounted`);
    }
    fs.rmSync(rec.log, { force: true });
    if (problems.length === 0) fs.rmSync(lockPath(rec.index), { force: true });
    return problems;
}
