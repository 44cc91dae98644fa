// The real tools that read what hearth renders: systemd-analyze, bash -n, shellcheck. Specs call these on every file they render.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

function run(cmd: string, args: string[], input?: string): { status: number | null; out: string } {
    const r = spawnSync(cmd, args, { input, encoding: "utf8", env: { ...process.env, SYSTEMD_LOG_COLOR: "0", SYSTEMD_PAGER: "" } });
    if (r.error) throw r.error;
    return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** Writes units into a fresh directory named like a unit search path and returns it. */
export function writeUnits(units: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-units-"));
    for (const [name, text] of Object.entries(units)) {
        const p = path.join(dir, name);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, text);
    }
    return dir;
}

/** Lines of `systemd-analyze verify` output that are warnings about the given files (it exits 0 for unknown keys). */
export function verifyUnits(units: Record<string, string>): string[] {
    const dir = writeUnits(units);
    try {
        const mains = Object.keys(units).filter((n) => !n.includes("/")).map((n) => path.join(dir, n));
        const r = run("systemd-analyze", ["verify", "--man=no", "--recursive-errors=no", ...mains]);
        const lines = r.out.split("\n").map((l) => l.trim()).filter(Boolean);
        // Complaints about units we did not write (the build machine's own) are not ours.
        const ours = lines.filter((l) => l.includes(dir) || Object.keys(units).some((n) => l.includes(path.basename(n))));
        if (r.status !== 0 && ours.length === 0) return lines.length ? lines : [`systemd-analyze verify exited ${r.status}`];
        return ours;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

export interface SecurityResult {
    exposure: number;
    text: string;
}

/**
 * `systemd-analyze security --offline=true` on one unit file: its overall exposure (0.0–10.0). `extra` holds files
 * beside it, e.g. `{ "x.service.d/50-hearth.conf": dropIn }`, which systemd reads with the unit.
 */
export function securityScore(unitName: string, text: string, extra: Record<string, string> = {}): SecurityResult {
    const dir = writeUnits({ ...extra, [unitName]: text });
    try {
        const r = run("systemd-analyze", ["security", "--offline=true", "--no-pager", path.join(dir, unitName)]);
        const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(r.out);
        if (!m) throw new Error(`systemd-analyze security printed no exposure for ${unitName} (exit ${r.status}):\n${r.out}`);
        return { exposure: Number(m[1]), text: r.out };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** `bash -n` and shellcheck (warnings and errors) on a script; returns the problems found. */
export function checkScript(script: string): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-sh-"));
    const f = path.join(dir, "script.sh");
    fs.writeFileSync(f, script.startsWith("#!") ? script : "#!/bin/bash\n" + script);
    try {
        const problems: string[] = [];
        const n = run("bash", ["-n", f]);
        if (n.status !== 0) problems.push(`bash -n: ${n.out}`);
        const sc = run("shellcheck", ["-s", "bash", "-S", "warning", "-f", "gcc", f]);
        if (sc.status !== 0) problems.push(`shellcheck: ${sc.out}`);
        return problems;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
