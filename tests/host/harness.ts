// Real test hosts: boots cached Debian rootfs images under systemd-nspawn (PID-1 systemd, own veth, pinned SSH) and tears them down without a trace.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { HOST_NAME } from "../../components/validate";
import { APT_REPO_MOUNT, APT_REPO_SOURCE, ensureAptRepo } from "./aptrepo";
import { BASE_PACKAGES, cacheDir, ensureImage, ensureLayer, ensureLowerDir, imagePackages, LAYERS, layerPath } from "./image";
import { cgroupPids, claimIndex, cgroupRoots, ensureBlackhole, HostRecord, mountsUnder, procStart, removeCgroup, requestHalt, run, saveRecord, teardownRecord } from "./machine";
import { closeMaster, generateKey, runClientKey, runSsh, SshOptions, SshResult, SshTarget, sshTempDir } from "./ssh";

export interface StartHostArgs {
    /** The host's name: its hostname and the hearth `Host` name (a lowercase DNS label). */
    readonly name: string;
    /** Packages on top of the base image and LAYERS: one more cached layer (image.ts), the base is never rebuilt for it. */
    readonly packages?: readonly string[];
    /**
     * The host's network: 10.231.<index>.0/24, the container on .2, the build machine's veth end on .1.
     * @default - the first index no other test process holds
     */
    readonly index?: number;
    /**
     * Packages the host can install from a local apt repository (aptrepo.ts: built on the build machine, bind-mounted
     * read-only at /srv/hearth-apt and the host's only apt source; the image's mirror sources are removed).
     * @default - no apt source at all
     */
    readonly aptPackages?: readonly string[];
}

export type ExecResult = SshResult;

export interface TestHost {
    readonly name: string;
    /** nspawn machine name, `hearth-<index>`. */
    readonly machine: string;
    readonly index: number;
    readonly address: string;
    readonly port: number;
    /** The run's client key (OpenSSH private key text); root's authorized key on the host. */
    readonly privateKey: string;
    /** The host's own ed25519 public key, generated for this boot (`ssh-ed25519 AAAA…`). */
    readonly hostKey: string;
    /** A hearth Host for components: the key as a Pulumi secret, the host key pinned. */
    readonly host: Host;
    readonly ssh: SshTarget;
    /** PID of the systemd-nspawn this harness started. */
    readonly pid: number;
    /** The host's root filesystem as the build machine sees it (an overlay over the shared image). */
    readonly rootDir: string;
    /** Everything on disk the host owns (overlay upper/work dirs and mount point); removed by stop(). */
    readonly stateDir: string;
    readonly veth: string;
    readonly cgroups: readonly string[];
    readonly timings: { readonly imageSeconds: number; readonly imageBuilt: boolean; readonly sshReadySeconds: number };
    /** Runs a command as root through ssh (the login shell), stdin written then closed; calls share one connection. */
    exec(command: string, opts?: SshOptions): Promise<ExecResult>;
    /** Powers the host off and removes its processes, cgroups, veth and rootfs. Throws if anything is left. */
    stop(): Promise<void>;
}

const live = new Map<number, HostRecord>();
const masters = new Map<number, SshTarget>();
/** The nspawn processes this process started, by host index: stop() waits for them to be reaped. */
const exits = new Map<number, Promise<void>>();

/** Whether host tests were explicitly switched off (`HEARTH_SKIP_HOST=1`); nothing else ever skips them. */
export const hostTestsSkipped = process.env.HEARTH_SKIP_HOST === "1";

/** `describe` for specs that need real hosts: skipped (and said so) only under HEARTH_SKIP_HOST=1. */
export function describeHost(title: string, fn: (this: Mocha.Suite) => void): void {
    if (hostTestsSkipped) {
        process.stderr.write(`hearth host: skipping "${title}" because HEARTH_SKIP_HOST=1\n`);
        describe.skip(title, fn);
    } else {
        describe(title, fn);
    }
}

/** Why this machine cannot boot a test host, or undefined when it can. */
export function hostPreflight(): string | undefined {
    if (process.getuid?.() !== 0) return "host tests need root (systemd-nspawn, veth, cgroups)";
    const missing = ["debootstrap", "systemd-nspawn", "zstd", "tar", "ssh", "ssh-keygen", "ip", "flock", "findmnt", "unshare", "chroot"]
        .filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
    if (missing.length) return `missing tools: ${missing.join(", ")} (.ci/run installs them)`;
    if (!cgroupRoots().some((r) => fs.existsSync(path.join(r, "cgroup.subtree_control")))) return "no cgroup2 hierarchy mounted";
    for (const dev of ["/dev/fuse", "/dev/net/tun"]) if (!fs.existsSync(dev)) return `${dev} is missing`;
    return undefined;
}

function writeFile(root: string, rel: string, content: string, mode = 0o644): void {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.rmSync(p, { force: true });
    fs.writeFileSync(p, content, { mode });
    fs.chmodSync(p, mode);
}

function runChecked(cmd: string, args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
        const c = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
        let err = "";
        c.stderr.on("data", (b: Buffer) => { err += b.toString("utf8"); });
        c.on("error", reject);
        c.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err}`))));
    });
}

/** Gives the unpacked rootfs this host's identity: name, address, SSH keys. Returns the host's public key. */
function configureRoot(rec: HostRecord, authorizedKey: string): string {
    const r = path.join(rec.root, "fs");
    writeFile(r, "etc/hostname", `${rec.name}\n`);
    writeFile(r, "etc/hosts", `127.0.0.1\tlocalhost\n127.0.1.1\t${rec.name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
    writeFile(r, "etc/machine-id", "", 0o444);
    writeFile(r, "etc/resolv.conf", "nameserver 127.0.0.1\n");
    // Sorted before nspawn's stock 80-container-host0.network (DHCP), so this static one wins.
    writeFile(r, "etc/systemd/network/10-hearth-host0.network", [
        "[Match]", "Name=host0", "", "[Network]", `Address=10.231.${rec.index}.2/24`, "LinkLocalAddressing=no", "IPv6AcceptRA=no", "",
        "[Route]", "Destination=10.231.0.0/16", `Gateway=10.231.${rec.index}.1`, "",
    ].join("\n"));
    fs.mkdirSync(path.join(r, "root/.ssh"), { recursive: true, mode: 0o700 });
    fs.chmodSync(path.join(r, "root/.ssh"), 0o700);
    writeFile(r, "root/.ssh/authorized_keys", `${authorizedKey}\n`, 0o600);
    const hk = generateKey(path.join(r, "etc/ssh"), "ssh_host_ed25519_key", `root@${rec.name}`);
    return hk.publicKey.split(" ").slice(0, 2).join(" ");
}

/** The local repository as the host's only apt source: the image's mirror sources go (in this host's overlay). */
function configureAptSource(rec: HostRecord): void {
    const r = path.join(rec.root, "fs");
    fs.rmSync(path.join(r, "etc/apt/sources.list"), { force: true });
    const d = path.join(r, "etc/apt/sources.list.d");
    for (const f of fs.existsSync(d) ? fs.readdirSync(d) : []) fs.rmSync(path.join(d, f), { force: true });
    writeFile(r, "etc/apt/sources.list.d/hearth-local.list", `${APT_REPO_SOURCE}\n`, 0o644);
}

function nspawnArgs(rec: HostRecord): string[] {
    return [
        "--boot", "-D", path.join(rec.root, "fs"), "-M", rec.machine, `--hostname=${rec.name}`,
        // The build machine has no systemd to register with; its own cgroups are prepared below (TESTHOST.md).
        "--register=no", "--keep-unit", "--console=passive",
        "--network-veth", "--capability=CAP_NET_ADMIN,CAP_BPF", "--system-call-filter=bpf",
        "--bind=/dev/fuse", "--bind=/dev/net/tun",
        "--resolv-conf=off", "--link-journal=no", "--timezone=off", "--settings=no",
    ];
}

function logTail(rec: HostRecord): string {
    try {
        return fs.readFileSync(rec.log, "utf8").split("\n").slice(-30).join("\n");
    } catch {
        return "(no nspawn log)";
    }
}

/** Starts nspawn and configures the build machine's end of the veth; returns how to ask whether nspawn has exited. */
async function boot(rec: HostRecord, extraArgs: readonly string[] = []): Promise<() => number | null | undefined> {
    for (const cg of rec.cgroups) {
        // Our index lock is held, so an empty tree here is what a killed run of ours left; one with processes is not.
        if (fs.existsSync(cg)) {
            if (cgroupPids([cg]).length) throw new Error(`cgroup ${cg} already has processes: ${cgroupPids([cg]).join(" ")}`);
            const left = removeCgroup(cg);
            if (left.length) throw new Error(left.join("; "));
        }
        fs.mkdirSync(cg);
    }
    const logFd = fs.openSync(rec.log, "w");
    // The launching shell joins the host's own cgroups, then becomes nspawn: a second container otherwise fails
    // ("Failed to create /init.scope control group").
    const join = 'for cg in $HEARTH_CGROUPS; do echo $$ > "$cg/cgroup.procs"; done; exec "$@"';
    const child = spawn("/bin/sh", ["-c", join, "sh", "systemd-nspawn", ...nspawnArgs(rec), ...extraArgs], {
        detached: true,
        stdio: ["ignore", logFd, logFd],
        env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HEARTH_CGROUPS: rec.cgroups.join(" ") },
    });
    fs.closeSync(logFd);
    child.unref();
    if (!child.pid) throw new Error("systemd-nspawn did not start");
    rec.nspawnPid = child.pid;
    rec.nspawnStart = procStart(child.pid);
    saveRecord(rec);
    let exited: number | null | undefined;
    exits.set(rec.index, new Promise((resolve) => child.on("exit", (code) => { exited = code; resolve(); })));

    const deadline = Date.now() + 15_000;
    while (!fs.existsSync(`/sys/class/net/${rec.veth}`)) {
        if (exited !== undefined) throw new Error(`systemd-nspawn exited ${exited} before creating ${rec.veth}:\n${logTail(rec)}`);
        if (Date.now() > deadline) throw new Error(`no ${rec.veth} 15 s after starting systemd-nspawn:\n${logTail(rec)}`);
        await new Promise((r) => setTimeout(r, 20));
    }
    for (const [cmd, args] of [
        ["ip", ["addr", "replace", `10.231.${rec.index}.1/24`, "dev", rec.veth]],
        ["ip", ["link", "set", rec.veth, "up"]],
    ] as const) {
        const r = run(cmd, [...args]);
        if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.out}`);
    }
    // Forwarding only for packets arriving on this veth (not the machine-wide switch): hosts reach each other
    // through .1, and nothing they send has a route out of the test range.
    fs.writeFileSync(`/proc/sys/net/ipv4/conf/${rec.veth}/forwarding`, "1");
    fs.writeFileSync(`/proc/sys/net/ipv6/conf/${rec.veth}/disable_ipv6`, "1");
    return () => exited;
}

async function waitForSsh(rec: HostRecord, target: SshTarget, nspawnExit: () => number | null | undefined, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: SshResult | undefined;
    for (;;) {
        const exited = nspawnExit();
        if (exited !== undefined) throw new Error(`the container stopped (nspawn exit ${exited}) before SSH answered:\n${logTail(rec)}`);
        last = await runSsh(target, "true", { connectTimeoutSec: 2, timeoutMs: 10_000 });
        if (last.code === 0) return;
        if (Date.now() > deadline) {
            throw new Error(`SSH on ${target.address} did not answer within ${timeoutMs / 1000} s (last: exit ${last.code} ${last.stderr.trim()}):\n${logTail(rec)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
    }
}

/**
 * The overlay lower directories (top first) of a host with `extra` packages: the unpacked base image, each of LAYERS,
 * then `extra` (minus what those already have) as a layer of its own. Builds what the cache lacks.
 */
export async function ensureHostTree(extra: readonly string[] = []): Promise<{ lowers: string[]; built: boolean; seconds: number }> {
    const started = Date.now();
    const image = await ensureImage(imagePackages());
    let lowers = [await ensureLowerDir(image)];
    let built = image.built;
    const have = new Set([...BASE_PACKAGES, ...LAYERS.flat()]);
    const own = [...new Set(imagePackages(extra))].filter((p) => !have.has(p));
    for (const set of own.length ? [...LAYERS, own] : LAYERS) {
        if (!fs.existsSync(layerPath(lowers, set))) built = true;
        const repo = ensureAptRepo(set, lowers);
        lowers = [await ensureLayer(lowers, set, repo), ...lowers];
    }
    return { lowers, built, seconds: built ? (Date.now() - started) / 1000 : 0 };
}

/** Boots a Debian bookworm host under systemd-nspawn and returns once SSH answers with the pinned host key. */
export async function startHost(args: StartHostArgs): Promise<TestHost> {
    if (typeof args.name !== "string" || !HOST_NAME.test(args.name)) throw new Error(`test host name must be a lowercase DNS label, got ${JSON.stringify(args.name)}`);
    if (args.index !== undefined && (!Number.isInteger(args.index) || args.index < 1 || args.index > 254)) {
        throw new Error(`test host index must be an integer from 1 to 254, got ${args.index}`);
    }
    const why = hostPreflight();
    if (why) throw new Error(`cannot boot a test host on this machine: ${why}. Set HEARTH_SKIP_HOST=1 to skip host tests explicitly.`);
    installCleanup();
    const image = await ensureHostTree(args.packages);
    const started = Date.now();
    ensureBlackhole();
    const key = runClientKey();
    const hostsDir = path.join(cacheDir(), "hosts");
    fs.mkdirSync(hostsDir, { recursive: true });
    const rec = claimIndex(args.index, args.name, hostsDir);
    live.set(rec.index, rec);
    try {
        const lower = image.lowers.join(":");
        // The index lock is ours, so anything still mounted here is an overlay a killed run of ours left.
        for (const m of mountsUnder(rec.root)) run("umount", ["-l", m]);
        if (mountsUnder(rec.root).length) throw new Error(`${rec.root} is still mounted`);
        fs.rmSync(rec.root, { recursive: true, force: true });
        for (const d of ["", "upper", "work", "fs"]) fs.mkdirSync(path.join(rec.root, d), { mode: 0o755 });
        // A fresh writable tree per host over the shared unpacked image; the image itself is never written.
        await runChecked("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lower},upperdir=${rec.root}/upper,workdir=${rec.root}/work`, path.join(rec.root, "fs")]);
        const hostKey = configureRoot(rec, key.publicKey);
        const repo = args.aptPackages?.length ? ensureAptRepo(args.aptPackages, image.lowers) : undefined;
        if (repo) configureAptSource(rec);
        const nspawnExit = await boot(rec, repo ? [`--bind-ro=${repo}:${APT_REPO_MOUNT}`] : []);
        const address = `10.231.${rec.index}.2`;
        const ssh: SshTarget = { address, port: 22, user: "root", privateKeyPath: key.privateKeyPath, hostKey };
        await waitForSsh(rec, ssh, nspawnExit, 60_000);
        const sshReadySeconds = (Date.now() - started) / 1000;
        process.stderr.write(`hearth host: ${args.name} (${rec.machine}, ${address}) answers SSH ${sshReadySeconds.toFixed(1)} s after start` +
            `${image.built ? `; image built cold in ${image.seconds.toFixed(1)} s` : " (cached image)"}\n`);
        const host = new Host({ name: args.name, address, privateKey: pulumi.secret(key.privateKey), hostKey });
        masters.set(rec.index, ssh);
        return {
            name: args.name, machine: rec.machine, index: rec.index, address, port: 22,
            privateKey: key.privateKey, hostKey, host, ssh,
            pid: rec.nspawnPid!, rootDir: path.join(rec.root, "fs"), stateDir: rec.root, veth: rec.veth, cgroups: rec.cgroups,
            timings: { imageSeconds: image.seconds, imageBuilt: image.built, sshReadySeconds },
            exec: (command, opts) => runSsh(ssh, command, { multiplex: true, ...opts }),
            stop: async () => {
                // Halt without blocking, so hosts stopped together (Promise.all) power off in parallel.
                if (live.has(rec.index) && requestHalt(rec)) await waitFor(exits.get(rec.index), 20_000);
                stopRecord(rec);
                // Let Node reap nspawn, so no zombie outlives stop().
                await waitFor(exits.get(rec.index), 5000);
                exits.delete(rec.index);
            },
        };
    } catch (e) {
        const problems = teardownRecord(rec);
        live.delete(rec.index);
        const extra = problems.length ? `\n(teardown also failed: ${problems.join("; ")})` : "";
        throw new Error(`starting test host ${args.name}: ${(e as Error).message}${extra}`);
    }
}

/** Waits for `p` at most `ms`, leaving no timer behind (mocha waits for pending timers before it exits). */
async function waitFor(p: Promise<void> | undefined, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([p, new Promise<void>((r) => { timer = setTimeout(r, ms); })]);
    clearTimeout(timer);
}

function stopRecord(rec: HostRecord): void {
    if (!live.has(rec.index)) return;
    const ssh = masters.get(rec.index);
    if (ssh) closeMaster(ssh);
    masters.delete(rec.index);
    const problems = teardownRecord(rec);
    live.delete(rec.index);
    if (problems.length) throw new Error(`test host ${rec.name} left things behind: ${problems.join("; ")}`);
}

/** The hosts this process has running (the runner only connects to these). */
export function liveAddresses(): string[] {
    return [...live.values()].map((r) => `10.231.${r.index}.2`);
}

/** Stops every host this process started; used on exit, on signals and by mocha's root after hook. */
export function stopAllHosts(): void {
    const problems: string[] = [];
    for (const rec of live.values()) requestHalt(rec);
    for (const rec of [...live.values()]) {
        try { stopRecord(rec); } catch (e) { problems.push((e as Error).message); }
    }
    if (problems.length) throw new Error(problems.join("\n"));
}

let cleanupInstalled = false;

function installCleanup(): void {
    if (cleanupInstalled) return;
    cleanupInstalled = true;
    sshTempDir();
    process.on("exit", () => {
        try { stopAllHosts(); } catch (e) { process.stderr.write(`hearth host: cleanup on exit: ${(e as Error).message}\n`); }
    });
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        process.once(sig, () => {
            try { stopAllHosts(); } catch (e) { process.stderr.write(`hearth host: cleanup on ${sig}: ${(e as Error).message}\n`); }
            process.kill(process.pid, sig);
        });
    }
}

// A spec that forgets stop() (or fails before it) still leaves nothing behind once mocha finishes.
if (typeof after === "function") after(stopAllHosts);
