// The ssh client side of host tests: a per-run client key, pinned known_hosts, and running one command like the command provider does.
import { spawn, spawnSync, ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Every address a host test may reach: the blackholed test range (see TESTHOST.md, network safety). */
export const TEST_NET = "10.231.0.0/16";
const TEST_ADDRESS = /^10\.231\.(25[0-4]|2[0-4]\d|1\d\d|[1-9]\d?)\.([2-9]|[1-9]\d|1\d\d|2[0-4]\d|25[0-4])$/;

export function isTestAddress(address: string): boolean {
    return TEST_ADDRESS.test(address);
}

let tempDir: string | undefined;

/** A private directory for keys and known_hosts files of this test process, removed when it exits. */
export function sshTempDir(): string {
    if (!tempDir) {
        tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-ssh-"));
        fs.chmodSync(tempDir, 0o700);
        const dir = tempDir;
        process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    }
    return tempDir;
}

export interface KeyPair {
    /** OpenSSH private key text. */
    readonly privateKey: string;
    /** `ssh-ed25519 AAAA… comment` */
    readonly publicKey: string;
    /** A 0600 file holding `privateKey`. */
    readonly privateKeyPath: string;
}

/** Generates an ed25519 key pair with ssh-keygen into `dir/name` (the private half stays 0600). */
export function generateKey(dir: string, name: string, comment: string): KeyPair {
    const file = path.join(dir, name);
    fs.rmSync(file, { force: true });
    fs.rmSync(`${file}.pub`, { force: true });
    const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`ssh-keygen failed (${r.status}): ${r.stderr}`);
    return { privateKey: fs.readFileSync(file, "utf8"), publicKey: fs.readFileSync(`${file}.pub`, "utf8").trim(), privateKeyPath: file };
}

let clientKey: KeyPair | undefined;

/** The client key of this test run: fresh per process, so no key outlives the hosts it opened. */
export function runClientKey(): KeyPair {
    clientKey ??= generateKey(sshTempDir(), "client", `hearth-test-${process.pid}`);
    return clientKey;
}

/** Writes a private key given as text to a 0600 file (reusing the run's client key file when it is that key). */
export function keyFile(privateKey: string): string {
    if (clientKey && clientKey.privateKey.trim() === privateKey.trim()) return clientKey.privateKeyPath;
    const file = path.join(sshTempDir(), `key-${Buffer.from(privateKey).toString("base64url").slice(-24)}`);
    fs.writeFileSync(file, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, { mode: 0o600 });
    return file;
}

export interface SshTarget {
    readonly address: string;
    readonly port: number;
    readonly user: string;
    readonly privateKeyPath: string;
    /** The host's public key, `ssh-ed25519 AAAA…`; the connection is refused unless the host presents it. */
    readonly hostKey: string;
}

function knownHostsFile(t: SshTarget): string {
    const key = t.hostKey.trim().split(/\s+/).slice(0, 2).join(" ");
    if (!/^ssh-ed25519 [A-Za-z0-9+/=]+$/.test(key)) throw new Error(`refusing to ssh: host key is not an ed25519 public key: ${JSON.stringify(t.hostKey)}`);
    const host = t.port === 22 ? t.address : `[${t.address}]:${t.port}`;
    const file = path.join(sshTempDir(), `known_hosts-${t.address}-${t.port}`);
    const line = `${host} ${key}\n`;
    // Concurrent ssh runs read this file: write only on change, and atomically, so none ever reads it half-written.
    let current: string | undefined;
    try {
        current = fs.readFileSync(file, "utf8");
    } catch {
        current = undefined;
    }
    if (current !== line) {
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, line, { mode: 0o600 });
        fs.renameSync(tmp, file);
    }
    return file;
}

function controlPath(t: SshTarget): string {
    return path.join(sshTempDir(), `cm-${t.user}@${t.address}:${t.port}`);
}

/** The ssh argv for one command: no config files, no agent, no prompts, the host key pinned. */
export function sshArgv(t: SshTarget, command: string, env: Record<string, string> = {}, connectTimeoutSec = 5, multiplex = false): string[] {
    if (!isTestAddress(t.address)) throw new Error(`refusing to ssh to ${JSON.stringify(t.address)}: host tests only reach ${TEST_NET}`);
    const setEnv = Object.entries(env).map(([k, v]) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || /["\\\n]/.test(v)) throw new Error(`cannot pass environment variable ${k} over ssh`);
        return ["-o", `SetEnv=${k}="${v}"`];
    });
    return [
        "-F", "/dev/null",
        "-i", t.privateKeyPath,
        "-p", String(t.port),
        "-o", "BatchMode=yes",
        "-o", "IdentitiesOnly=yes",
        "-o", "IdentityAgent=none",
        "-o", "StrictHostKeyChecking=yes",
        "-o", `UserKnownHostsFile=${knownHostsFile(t)}`,
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "UpdateHostKeys=no",
        // Test probes share one connection (a fresh login per probe costs ~0.4 s on a busy machine); remote commands
        // under test never do, each dials anew as the command provider does.
        ...(multiplex ? ["-o", "ControlMaster=auto", "-o", `ControlPath=${controlPath(t)}`, "-o", "ControlPersist=60"] : ["-o", "ControlMaster=no", "-o", "ControlPath=none"]),
        "-o", `ConnectTimeout=${connectTimeoutSec}`,
        "-o", "ServerAliveInterval=5",
        "-o", "LogLevel=ERROR",
        ...setEnv.flat(),
        "-T",
        "--",
        `${t.user}@${t.address}`,
        // One word: sshd hands it verbatim to the user's login shell (`$SHELL -c`), as the command provider's session.Run does.
        command,
    ];
}

export interface SshResult {
    /** Exit status of the remote command; 255 when ssh itself failed; -1 when killed locally. */
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

export interface SshOptions {
    /** Written to the remote command's stdin, which is then closed. Without it, stdin is empty. */
    readonly stdin?: string;
    readonly env?: Record<string, string>;
    /** @default 300000 */
    readonly timeoutMs?: number;
    readonly connectTimeoutSec?: number;
    /** Reuse one master connection per host (for test probes, never for the commands under test). @default false */
    readonly multiplex?: boolean;
    /** Called with the ssh process once started (tests use it to cut a connection mid-script). */
    readonly onSpawn?: (child: ChildProcess) => void;
    /**
     * Extra `-o Name=value` pairs placed before the rest of the argv (ssh keeps an option's first value, so these win).
     * Only SSH_EXTRA_OPTIONS may be set: nothing here can loosen the pinned host key, the identity or the address check.
     */
    readonly options?: readonly string[];
}

/** The options runSsh's `options` may set: algorithm lists, logging, and a proxy that connects for ssh. */
export const SSH_EXTRA_OPTIONS = ["KexAlgorithms", "Ciphers", "MACs", "HostKeyAlgorithms", "Compression", "LogLevel", "ProxyCommand", "ProxyUseFdpass"] as const;

function extraOptions(options: readonly string[]): readonly string[] {
    for (let i = 0; i < options.length; i += 2) {
        const name = /^([A-Za-z]+)=/.exec(options[i + 1] ?? "")?.[1];
        if (options[i] !== "-o" || !name || !(SSH_EXTRA_OPTIONS as readonly string[]).includes(name)) {
            throw new Error(`runSsh: options must be "-o", "Name=value" pairs with Name one of ${SSH_EXTRA_OPTIONS.join(", ")}; got ${JSON.stringify(options.slice(i, i + 2))}`);
        }
    }
    return options;
}

/** Runs one command on a test host over ssh and collects its output. */
export function runSsh(t: SshTarget, command: string, opts: SshOptions = {}): Promise<SshResult> {
    const argv = [...extraOptions(opts.options ?? []), ...sshArgv(t, command, opts.env, opts.connectTimeoutSec, opts.multiplex)];
    return new Promise((resolve, reject) => {
        const child = spawn("ssh", argv, { stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        // The remote side may exit before reading all of stdin; that is its answer, not ours to fail on.
        child.stdin.on("error", () => undefined);
        const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 300_000);
        child.on("error", (e) => { clearTimeout(timer); reject(e); });
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
        });
        if (opts.stdin !== undefined && opts.stdin.length > 0) child.stdin.end(opts.stdin);
        else child.stdin.end();
        opts.onSpawn?.(child);
    });
}

/** Ends the shared master connection to a host, if one runs (before the host is stopped). */
export function closeMaster(t: SshTarget): void {
    if (!fs.existsSync(controlPath(t))) return;
    spawnSync("ssh", ["-F", "/dev/null", "-o", `ControlPath=${controlPath(t)}`, "-O", "exit", `${t.user}@${t.address}`], { stdio: "ignore", timeout: 5000 });
}
