// The machine a benchmark ran on, printed with every table: numbers from a busy 2-core box need that context.
import * as os from "os";
import { spawnSync } from "child_process";
import { readFlags } from "../stacks/cli-args";

export interface MachineInfo {
    readonly date: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGiB: number;
    readonly kernel: string;
    readonly node: string;
    /** 1-minute load average when the benchmark started and ended (other work on the machine skews wall times). */
    loadStart: number;
    loadEnd?: number;
}

export function machineInfo(): MachineInfo {
    const nproc = spawnSync("nproc", [], { encoding: "utf8" });
    return {
        date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        cpus: nproc.status === 0 ? Number(nproc.stdout.trim()) : os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "unknown",
        memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
        kernel: os.release(),
        node: process.version,
        loadStart: os.loadavg()[0],
    };
}

export function finishMachine(m: MachineInfo): MachineInfo {
    m.loadEnd = os.loadavg()[0];
    return m;
}

export function formatMachine(m: MachineInfo): string {
    const load = `load average ${m.loadStart.toFixed(1)}${m.loadEnd !== undefined ? ` → ${m.loadEnd.toFixed(1)}` : ""}`;
    return `${m.date} · nproc ${m.cpus} (${m.cpuModel}) · ${m.memoryGiB} GiB · kernel ${m.kernel} · node ${m.node} · ${load}`;
}

/** A markdown table from a header row and body rows. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
    const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
    return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export function median(xs: readonly number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The options the host benchmarks share: `--repeat N` (1 to 20, default 3) and `--json FILE`. */
export interface RepeatArgs {
    repeat: number;
    json?: string;
}

/** Reads `--repeat N` and `--json FILE` (`--help` prints `usage`); anything else, or a bad value, throws with it. */
export function parseRepeatArgs(
    argv: readonly string[],
    usage: string,
    more?: (flag: string, value: () => string) => boolean,
    repeat = 3,
): RepeatArgs {
    const a: RepeatArgs = { repeat };
    readFlags(argv, usage, (flag, value) => {
        if (flag === "--repeat") a.repeat = Number(value());
        else if (flag === "--json") a.json = value();
        else return more?.(flag, value) ?? false;
        return true;
    });
    if (!Number.isInteger(a.repeat) || a.repeat < 1 || a.repeat > 20) throw new Error(`--repeat must be an integer from 1 to 20, got ${JSON.stringify(a.repeat)}\n${usage}`);
    if (a.json === "") throw new Error(`--json needs a file\n${usage}`);
    return a;
}
