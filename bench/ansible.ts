// Runs bench/ansible/site.yml against one test host and counts the ssh/sftp processes Ansible starts.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { liveAddresses, TestHost } from "../tests/host/harness";

const DIR = path.join(__dirname, "ansible");

export interface AnsibleRun {
    readonly wallMs: number;
    /** ssh/sftp/scp processes started: each one remote command or file transfer over the shared connection. */
    readonly remoteCommands: number;
    readonly recap: { ok: number; changed: number; failed: number; unreachable: number };
    readonly stdout: string;
}

/** Whether ansible-playbook is installed (Debian's ansible-core). */
export function ansiblePreflight(): string | undefined {
    const r = spawnSync("ansible-playbook", ["--version"], { encoding: "utf8" });
    if (r.error || r.status !== 0) return "ansible-playbook is missing (apt-get install ansible-core)";
    return undefined;
}

/** One Ansible control directory per host: its own config home, temp dirs, ControlPersist socket and counters. */
export class AnsibleTarget {
    private readonly work: string;

    constructor(private readonly host: TestHost, scratch: string) {
        if (!liveAddresses().includes(host.address)) throw new Error(`refusing to point Ansible at ${host.address}: not a test host this process started`);
        this.work = fs.mkdtempSync(path.join(scratch, `ansible-${host.name}-`));
        for (const d of ["home", "tmp", "cp"]) fs.mkdirSync(path.join(this.work, d), { mode: 0o700 });
        fs.writeFileSync(path.join(this.work, "known_hosts"), `${host.address} ${host.hostKey}\n`, { mode: 0o600 });
    }

    /** Runs the playbook once with these extra vars (written to a 0600 file: they hold the database password). */
    run(extraVars: Record<string, unknown>): Promise<AnsibleRun> {
        const extra = path.join(this.work, "extra.json");
        fs.writeFileSync(extra, JSON.stringify(extraVars), { mode: 0o600 });
        const log = path.join(this.work, "ssh.log");
        fs.writeFileSync(log, "");
        const env: NodeJS.ProcessEnv = {
            PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
            HOME: path.join(this.work, "home"),
            LANG: "C.UTF-8",
            ANSIBLE_CONFIG: path.join(DIR, "ansible.cfg"),
            ANSIBLE_HOME: path.join(this.work, "home"),
            ANSIBLE_LOCAL_TEMP: path.join(this.work, "tmp"),
            ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(this.work, "cp"),
            ANSIBLE_SSH_EXECUTABLE: path.join(DIR, "bin", "ssh"),
            ANSIBLE_SFTP_EXECUTABLE: path.join(DIR, "bin", "sftp"),
            ANSIBLE_SCP_EXECUTABLE: path.join(DIR, "bin", "scp"),
            ANSIBLE_NOCOLOR: "1",
            HEARTH_BENCH_SSH_LOG: log,
            HEARTH_BENCH_HOST: this.host.address,
            HEARTH_BENCH_KEY: this.host.ssh.privateKeyPath,
            HEARTH_BENCH_KNOWN_HOSTS: path.join(this.work, "known_hosts"),
        };
        const started = Date.now();
        return new Promise((resolve, reject) => {
            const child = spawn("ansible-playbook", [path.join(DIR, "site.yml"), "-e", `@${extra}`], { env, cwd: DIR, stdio: ["ignore", "pipe", "pipe"] });
            let out = "";
            child.stdout.on("data", (b: Buffer) => { out += b.toString("utf8"); });
            child.stderr.on("data", (b: Buffer) => { out += b.toString("utf8"); });
            child.on("error", reject);
            child.on("close", (code) => {
                const wallMs = Date.now() - started;
                const recap = parseRecap(out);
                if (code !== 0 || !recap || recap.failed || recap.unreachable) {
                    reject(new Error(`ansible-playbook exited ${code}:\n${out.slice(-6000)}`));
                    return;
                }
                const remoteCommands = fs.readFileSync(log, "utf8").split("\n").filter(Boolean).length;
                resolve({ wallMs, remoteCommands, recap, stdout: out });
            });
        });
    }

    /** Ends the ControlPersist master Ansible left behind (our own child process), then removes the directory. */
    close(): void {
        const cp = path.join(this.work, "cp");
        for (const sock of fs.existsSync(cp) ? fs.readdirSync(cp) : []) {
            spawnSync("/usr/bin/ssh", ["-F", "/dev/null", "-o", `ControlPath=${path.join(cp, sock)}`, "-O", "exit", this.host.address], { stdio: "ignore", timeout: 5000 });
        }
        fs.rmSync(this.work, { recursive: true, force: true });
    }
}

function parseRecap(out: string): AnsibleRun["recap"] | undefined {
    const m = /^bench\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/m.exec(out);
    return m ? { ok: Number(m[1]), changed: Number(m[2]), unreachable: Number(m[3]), failed: Number(m[4]) } : undefined;
}

/** The installed ansible-core's version, for the tables. */
export function ansibleVersion(): string {
    const r = spawnSync("ansible-playbook", ["--version"], { encoding: "utf8" });
    return `ansible-core ${/ansible-playbook \[core ([^\]]+)\]/.exec(r.stdout ?? "")?.[1] ?? "(unknown version)"}`;
}
