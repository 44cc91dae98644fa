// Runs a rendered NspawnContainer script on this machine inside a private mount namespace: /etc/systemd, /var/lib,
// /run and /srv are fresh tmpfs mounts (so nothing of the real host is touched), and systemctl, ip, systemd-nspawn and
// journalctl are stubs that log their argv (systemctl answers like a host where the container is stopped and then
// starts and reaches "running"). setpriv, ssh-keygen, cp and the rest are the real tools.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const STUBS: Record<string, string> = {
    systemctl: String.raw`#!/bin/bash
printf 'systemctl %s\n' "$*" >> /run/stub.log
case "$*" in
  *"is-active"*) [ -e /run/stub-active ] && exit 0; exit 3 ;;
  *"ActiveState"*) if [ -e /run/stub-active ]; then echo active; else echo inactive; fi ;;
  *"MainPID"*) if [ -e /run/stub-active ]; then echo 4242; else echo 0; fi ;;
  stop\ *) rm -f /run/stub-active ;;
  *"is-enabled"*) exit 1 ;;
  *"NeedDaemonReload"*) echo no ;;
  *"LoadState"*) echo loaded ;;
  *"is-system-running"*) echo running ;;
  *"list-unit-files"*) exit 0 ;;
esac
exit 0
`,
    ip: "#!/bin/bash\nprintf 'ip %s\\n' \"$*\" >> /run/stub.log\n",
    "systemd-nspawn": "#!/bin/bash\nprintf 'systemd-nspawn %s\\n' \"$*\" >> /run/stub.log\n",
    journalctl: "#!/bin/bash\nprintf 'journalctl %s\\n' \"$*\" >> /run/stub.log\n",
};

export interface StubRun {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
    /** What the stubs logged. */
    readonly log: string;
    /** `find` listing of the namespace's /var/lib/machines, /etc/systemd, /var/lib/hearth after the run. */
    readonly tree: string;
}

export interface StubStep {
    readonly script: string;
    readonly stdin?: string;
}

/** Whether this machine can run the stub namespace (root, unshare). */
export function canStub(): boolean {
    return process.getuid?.() === 0 && spawnSync("unshare", ["--version"]).status === 0;
}

/**
 * Runs `steps` one after another in ONE private mount namespace (state carries over between them). `setup` runs
 * first (as root, e.g. to create a base tree). Returns each step's result.
 */
export function stubRuns(setup: string, steps: readonly StubStep[]): StubRun[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-nspawn-stub-"));
    try {
        const stubDir = path.join(dir, "stubs");
        fs.mkdirSync(stubDir);
        for (const [n, body] of Object.entries(STUBS)) fs.writeFileSync(path.join(stubDir, n), body, { mode: 0o755 });
        steps.forEach((s, i) => {
            fs.writeFileSync(path.join(dir, `step${i}.sh`), s.script);
            fs.writeFileSync(path.join(dir, `step${i}.in`), s.stdin ?? "");
        });
        fs.writeFileSync(path.join(dir, "setup.sh"), setup);
        const q = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;
        const lines = [
            "set -e",
            "mount --make-rprivate /",
            "for d in /etc/systemd /var/lib /run /srv /usr/local/sbin; do mount -t tmpfs -o mode=0755 hearth-stub \"$d\"; done",
            `cp ${q(stubDir)}/* /usr/local/sbin/`,
            "mkdir -p /etc/systemd/system /var/lib/machines && chmod 0700 /var/lib/machines",
            `bash ${q(path.join(dir, "setup.sh"))}`,
            "set +e",
        ];
        steps.forEach((_, i) => {
            const out = q(path.join(dir, `out${i}`));
            lines.push(
                ": > /run/stub.log",
                `bash ${q(path.join(dir, `step${i}.sh`))} < ${q(path.join(dir, `step${i}.in`))} > ${out}.stdout 2> ${out}.stderr; echo $? > ${out}.code`,
                `cp /run/stub.log ${out}.log`,
                `find /var/lib/machines /etc/systemd /var/lib/hearth -printf '%p %y %m %u\\n' 2>/dev/null | LC_ALL=C sort > ${out}.tree || true`,
            );
        });
        const r = spawnSync("unshare", ["-m", "--propagation", "private", "bash", "-c", lines.join("\n")], { encoding: "utf8", timeout: 120_000 });
        if (r.status !== 0) throw new Error(`stub namespace failed (${r.status}): ${r.stderr}`);
        return steps.map((_, i) => {
            const read = (ext: string) => fs.readFileSync(path.join(dir, `out${i}.${ext}`), "utf8");
            return { code: Number(read("code").trim()), stdout: read("stdout"), stderr: read("stderr"), log: read("log"), tree: read("tree") };
        });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
