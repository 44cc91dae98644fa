// The real DNS tools the dns specs check with: golden files, kzonecheck, knotc, a knotd on loopback, and dig.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderKnotConf } from "../../components/dns/knot";
import { golden as compare } from "../golden";

const GOLDEN = path.join(__dirname, "golden");

/** Compares with a golden file through the one golden-file helper; `UPDATE_GOLDEN=1` rewrites it. */
export function golden(name: string, actual: string): void {
    compare(GOLDEN, name, actual);
}

function run(cmd: string, args: string[]): { status: number | null; out: string } {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30000 });
    if (r.error) throw r.error;
    return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** `kzonecheck` (Knot's own zone checker) on a zone file; returns its complaints (empty when clean). */
export function kzonecheck(zone: string, text: string): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-kzc-"));
    try {
        const f = path.join(dir, `${zone}.zone`);
        fs.writeFileSync(f, text);
        const r = run("kzonecheck", ["-o", zone, f]);
        const lines = r.out.split("\n").map((l) => l.trim()).filter(Boolean);
        return r.status === 0 && lines.length === 0 ? [] : lines.length ? lines : [`kzonecheck exited ${r.status}`];
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** `knotc conf-check` on a configuration; returns its output when it fails. */
export function knotConfCheck(conf: string): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-kcc-"));
    try {
        const f = path.join(dir, "knot.conf");
        fs.writeFileSync(f, conf);
        const r = run("knotc", ["-c", f, "conf-check"]);
        return r.status === 0 ? [] : [r.out];
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

export interface DigAnswer {
    status: string;
    answer: string[];
    authority: string[];
    additional: string[];
    flags: string;
}

/** One query with dig (+norecurse: an authoritative server is asked directly); sections as record lines. */
export function dig(server: string, port: number, name: string, type: string, cls = "IN"): DigAnswer {
    const r = run("dig", [`@${server}`, "-p", String(port), "+norecurse", "+time=2", "+tries=2", "+nocookie", "-c", cls, "-t", type, "-q", name]);
    const status = /status: (\w+)/.exec(r.out)?.[1] ?? `no answer (dig exited ${r.status}): ${r.out}`;
    const flags = /;; flags: ([a-z ]+);/.exec(r.out)?.[1] ?? "";
    const section = (title: string): string[] => {
        const m = new RegExp(`;; ${title} SECTION:\\n([\\s\\S]*?)(\\n\\n|$)`).exec(r.out);
        return m ? m[1].split("\n").filter((l) => l && !l.startsWith(";")).map((l) => l.split(/\s+/).join(" ")) : [];
    };
    return { status, answer: section("ANSWER"), authority: section("AUTHORITY"), additional: section("ADDITIONAL"), flags };
}

/** The data fields of answer lines (`name ttl class type data...` → `data...`). */
export function rdata(lines: string[]): string[] {
    return lines.map((l) => l.split(" ").slice(4).join(" ")).sort();
}

/** A knotd serving one zone on 127.0.0.1 with hearth's rendered configuration; ended by PID in `stop()`. */
export class LocalKnot {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-knotd-"));
    readonly port = 20000 + Math.floor(Math.random() * 20000);
    readonly conf = path.join(this.dir, "knot.conf");
    private proc?: ChildProcess;

    constructor(readonly zone: string) {
        for (const d of ["run", "db", "zones"]) fs.mkdirSync(path.join(this.dir, d));
        fs.writeFileSync(this.conf, renderKnotConf({
            zone, listen: ["127.0.0.1"], port: this.port,
            rundir: path.join(this.dir, "run"), database: path.join(this.dir, "db"), storage: path.join(this.dir, "zones"),
        }));
    }

    writeZone(text: string): void {
        const f = path.join(this.dir, "zones", `${this.zone}.zone`);
        fs.writeFileSync(`${f}.new`, text);
        fs.renameSync(`${f}.new`, f);
    }

    knotc(...args: string[]): { status: number | null; out: string } {
        return run("knotc", ["-c", this.conf, ...args]);
    }

    /** Starts knotd and waits until it serves the zone with `serial`. */
    async start(serial: number): Promise<void> {
        const log = fs.openSync(path.join(this.dir, "knotd.log"), "a");
        this.proc = spawn("knotd", ["-c", this.conf], { stdio: ["ignore", log, log] });
        fs.closeSync(log);
        await this.waitSerial(serial);
    }

    async waitSerial(serial: number): Promise<void> {
        for (let i = 0; i < 100; i++) {
            const r = this.knotc("zone-status", this.zone);
            if (new RegExp(`serial: ${serial}\\b`).test(r.out)) return;
            if (this.proc?.exitCode !== null && this.proc?.exitCode !== undefined) break;
            await new Promise((res) => setTimeout(res, 100));
        }
        throw new Error(`knotd did not serve ${this.zone} with serial ${serial}:\n${fs.readFileSync(path.join(this.dir, "knotd.log"), "utf8")}`);
    }

    stop(): void {
        if (this.proc?.pid && this.proc.exitCode === null) this.proc.kill("SIGTERM");
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
