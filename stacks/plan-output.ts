// Writes a plan to out/plan/<stack>/ for review (files as they land on each host, scripts beside them) and prints it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DESIRED_PATH as FIREWALL_RULESET } from "../components";
import { PlaceholderSecret, Plan, PlannedCommand, PlannedHost, WITHHELD } from "./plan-report";

/** Marks a directory the plan wrote, so a re-plan may clear it and nothing else. */
const MARKER = ".hearth-plan";

/** Clears `<root>/<stack>` (only if an earlier plan made it) and writes the plan there. Returns the directory. */
export function writePlan(plan: Plan, root: string): string {
    const dir = path.join(root, plan.stack);
    if (fs.existsSync(dir)) {
        if (!fs.existsSync(path.join(dir, MARKER)) && fs.readdirSync(dir).length > 0) {
            throw new Error(`${dir} exists and was not written by the plan; refusing to clear it`);
        }
        fs.rmSync(dir, { recursive: true, force: true });
    }
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, MARKER), "Written by `npm run plan`; cleared and rewritten on every plan.\n");
    for (const host of plan.hosts) {
        const hostDir = path.join(dir, host.name);
        for (const c of host.commands) {
            for (const f of c.files) {
                // A secret file is the host's alone: the manifest and the printed plan list it, the plan writes nothing.
                if (f.secret) continue;
                const to = path.join(hostDir, f.path);
                // Paths were checked (absolute, normalized) when parsed; this keeps a bad one from escaping anyway.
                if (!to.startsWith(hostDir + path.sep)) throw new Error(`refusing to write ${f.path} outside ${hostDir}`);
                fs.mkdirSync(path.dirname(to), { recursive: true });
                fs.writeFileSync(to, f.content);
            }
            const scripts = path.join(hostDir, "_scripts");
            fs.mkdirSync(scripts, { recursive: true });
            if (c.create) fs.writeFileSync(path.join(scripts, `${c.name}.create.sh`), withShebang(c.create));
            if (c.update) fs.writeFileSync(path.join(scripts, `${c.name}.update.sh`), withShebang(c.update));
            if (c.delete) fs.writeFileSync(path.join(scripts, `${c.name}.delete.sh`), withShebang(c.delete));
        }
        fs.mkdirSync(hostDir, { recursive: true });
        // Modes and owners are not carried by a checkout; the manifest shows them to a reviewer.
        const manifest = host.commands.flatMap((c) => c.files.map((f) => `${f.path}\t${f.mode.toString(8).padStart(4, "0")}\t${f.owner}:${f.group}\t${f.secret ? "(secret: withheld)" : f.sha256}\t${c.name}`));
        fs.writeFileSync(path.join(hostDir, "_files.tsv"), ["# path\tmode\towner\tsha256\tresource", ...manifest.sort()].join("\n") + "\n");
        fs.writeFileSync(path.join(hostDir, "_listeners.tsv"), tsv(["protocol", "port", "address", "listener", "scope", "resource", "declared at"], host.listeners.map((l) => [l.protocol, String(l.port), l.address ?? "*", l.listener, l.scope, l.resource, l.where ?? l.arg])));
        fs.writeFileSync(path.join(hostDir, "_packages.tsv"), tsv(["package", "version", "hold", "resource", "keepUnits"], host.packages.flatMap((p) => p.packages.map((x) => [x.name, x.version ?? "", x.hold ? "hold" : "", p.resource, p.keepUnits.join(" ")]))));
    }
    fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify(planSummary(plan), null, 2) + "\n");
    return dir;
}

/** A header line and rows, tab-separated; a tab or newline inside a value becomes a space. */
function tsv(header: string[], rows: string[][]): string {
    const clean = (v: string) => v.replace(/[\t\r\n]/g, " ");
    return [`# ${header.join("\t")}`, ...rows.map((r) => r.map(clean).join("\t"))].join("\n") + "\n";
}

function withShebang(script: string): string {
    return script.startsWith("#!") ? script : `#!/bin/bash\n${script}`;
}

/** What plan.json holds: everything but file bodies and script text (those are files of their own). */
export function planSummary(plan: Plan) {
    return {
        stack: plan.stack,
        hosts: plan.hosts.map((h) => ({
            name: h.name,
            target: h.target,
            commands: h.commands.map((c) => ({
                name: c.name,
                component: c.component,
                trigger: c.trigger,
                triggerSource: c.triggerSource,
                sudo: c.sudo,
                createBytes: c.create ? Buffer.byteLength(c.create) : undefined,
                deleteBytes: c.delete === undefined ? undefined : Buffer.byteLength(c.delete),
                secretFrames: c.secretFrames,
                files: c.files.map((f) => ({ path: f.path, mode: f.mode.toString(8).padStart(4, "0"), owner: `${f.owner}:${f.group}`, ...(f.secret ? { secret: "withheld" } : { bytes: Buffer.byteLength(f.content), sha256: f.sha256 }) })),
                warning: c.warning,
            })),
            listeners: h.listeners,
            packages: h.packages,
        })),
        resources: plan.others,
        components: plan.components,
        ...(plan.placeholders ? { unsetSecrets: plan.placeholders } : {}),
    };
}

function size(bytes: number): string {
    return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function commandLines(c: PlannedCommand): string[] {
    const parts = c.create === "" ? ["delete only (runs when its component is removed)"] : [`${c.triggerSource} ${c.trigger.slice(0, 12)}`, `create ${size(Buffer.byteLength(c.create))}`];
    if (c.update) parts.push(`update ${size(Buffer.byteLength(c.update))}`);
    parts.push(c.delete ? `delete ${size(Buffer.byteLength(c.delete))}` : "no delete");
    if (c.sudo) parts.push("via sudo");
    if (c.secretFrames) parts.push(`${c.secretFrames} secret(s) over stdin`);
    const lines = [`    ~ ${c.name}  ${parts.join(", ")}`];
    for (const f of c.files) lines.push(`        ${f.path}  ${f.mode.toString(8).padStart(4, "0")} ${f.owner}:${f.group}  ${f.content === WITHHELD ? "content withheld (secret)" : size(Buffer.byteLength(f.content))}`);
    if (c.warning) lines.push(`        ! ${c.warning}`);
    return lines;
}

/** The human summary: per host, per component, each remote command with its trigger, scripts and files. */
export function formatPlan(plan: Plan): string {
    const out: string[] = [];
    const nCommands = plan.hosts.reduce((n, h) => n + h.commands.length, 0);
    out.push(`Plan of stack '${plan.stack}': ${plan.hosts.length} host(s), ${plan.components.length} component(s), ${nCommands} remote command(s), ${plan.others.length} other resource(s)`);
    for (const h of plan.hosts) {
        out.push("", `host ${h.name} (${h.target})`);
        const byComponent = new Map<string, PlannedCommand[]>();
        for (const c of h.commands) {
            const k = c.component ?? "(no component)";
            byComponent.set(k, [...(byComponent.get(k) ?? []), c]);
        }
        for (const [component, commands] of byComponent) {
            out.push(`  + ${component.replace("/", "  ")}`);
            for (const c of commands) out.push(...commandLines(c));
        }
        out.push(...listenerLines(h), ...firewallLines(h), ...packageLines(h));
    }
    if (plan.others.length) {
        out.push("", "other resources");
        for (const o of plan.others) out.push(`  + ${o.type}  ${o.name}${o.component ? `  (in ${o.component})` : ""}  ${brief(o.inputs)}`);
    }
    return out.join("\n");
}

/** A host's listener registry: one aligned row per socket (`*` for every address). */
export function listenerLines(h: PlannedHost): string[] {
    if (h.listeners.length === 0) return [];
    const rows = h.listeners.map((l) => [`${l.protocol}/${l.port}`, l.address ?? "*", l.listener, l.scope, `${l.resource.replace("/", " ")}${l.where ? ` ('${l.where}')` : ""}`]);
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return [`  listens on (${h.listeners.length})`, ...rows.map((r) => `    ${r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]))).join("  ")}`)];
}

/**
 * The host's firewall ruleset as its HostFirewall installs it (each rule is preceded by a comment naming the listener,
 * its scope and where it was declared), so a reviewer sees which ports a change opens or closes.
 */
export function firewallLines(h: PlannedHost): string[] {
    for (const c of h.commands) {
        const f = c.files.find((x) => x.path === FIREWALL_RULESET);
        if (!f) continue;
        const body = f.content === WITHHELD ? ["(content withheld)"] : f.content.trimEnd().split("\n").map((l) => l.replace(/\t/g, "    "));
        return [`  firewall (${c.component ?? c.name}: ${FIREWALL_RULESET})`, ...body.map((l) => `    | ${l}`)];
    }
    return [];
}

/** The Debian packages declared for a host (the packages themselves: their dependencies are the host's business). */
export function packageLines(h: PlannedHost): string[] {
    if (h.packages.length === 0) return [];
    const out = [`  declares packages`];
    for (const p of h.packages) {
        const names = p.packages.map((x) => `${x.name}${x.version ? `=${x.version}` : ""}${x.hold ? " (held)" : ""}`);
        out.push(`    ${p.resource.replace("/", " ")}: ${names.join(", ") || "(none)"}${p.keepUnits.length ? `; keeps units ${p.keepUnits.join(", ")}` : ""}`);
        if (p.warning) out.push(`        ! ${p.warning}`);
    }
    return out;
}

/** The site's `secure:` values still unset, and the command that sets each; empty when none is. */
export function formatPlaceholders(placeholders: readonly PlaceholderSecret[], stack: string): string {
    if (placeholders.length === 0) return `Secrets: every secure value of Pulumi.${stack}.yaml is set.`;
    const w = Math.max(...placeholders.map((p) => p.key.length));
    return [
        `Secrets still placeholders in Pulumi.${stack}.yaml (${placeholders.length}): set each before \`pulumi up\` (FILE holds the value; or give it as the last argument):`,
        ...placeholders.map((p) => `  ${p.key.padEnd(w)}  ${p.command}`),
    ].join("\n");
}

function brief(inputs: Record<string, unknown>): string {
    const s = JSON.stringify(inputs);
    return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

export interface SecurityRow {
    readonly host: string;
    readonly unit: string;
    readonly exposure?: number;
    readonly note: string;
}

/**
 * `systemd-analyze security --offline=true` on every `.service` the plan wrote (with its drop-ins beside it), and on
 * each packaged unit a drop-in targets when that unit is installed on this machine. Undefined when the tool is missing.
 */
export function securityTable(plan: Plan, planDir: string): SecurityRow[] | undefined {
    if (spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" }).error) return undefined;
    const rows: SecurityRow[] = [];
    for (const h of plan.hosts) {
        const paths = h.commands.flatMap((c) => c.files.map((f) => f.path));
        for (const p of paths.filter((p) => p.endsWith(".service")).sort()) {
            rows.push({ host: h.name, unit: path.basename(p), ...score(path.join(planDir, h.name, p)) });
        }
        for (const p of paths.filter((p) => /\.service\.d\/[^/]+\.conf$/.test(p)).sort()) {
            const unit = path.basename(path.dirname(p)).replace(/\.d$/, "");
            if (paths.some((q) => q.endsWith(`/${unit}`))) continue; // scored with its own unit above
            rows.push({ host: h.name, unit, ...scorePackaged(unit, path.join(planDir, h.name, p)) });
        }
    }
    return rows;
}

function analyze(file: string): { exposure?: number; note: string } {
    const r = spawnSync("systemd-analyze", ["security", "--offline=true", "--no-pager", file], { encoding: "utf8", env: { ...process.env, SYSTEMD_LOG_COLOR: "0" } });
    const m = /Overall exposure level for \S+: (\d+\.\d+) (\S+)/.exec(`${r.stdout}${r.stderr}`);
    if (!m) return { note: `not scored: ${(r.stderr || r.stdout).trim().split("\n").pop()}` };
    return { exposure: Number(m[1]), note: m[2] };
}

function score(file: string): { exposure?: number; note: string } {
    return analyze(file);
}

/** A drop-in over a packaged unit scores only with that unit: copy it beside the drop-in when this machine has it. */
function scorePackaged(unit: string, dropIn: string): { exposure?: number; note: string } {
    const packaged = ["/lib/systemd/system", "/usr/lib/systemd/system"].map((d) => path.join(d, unit)).find((f) => fs.existsSync(f));
    if (!packaged) return { note: `drop-in only: ${unit} is not installed on this machine, so it cannot be scored here` };
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-score-"));
    try {
        fs.copyFileSync(packaged, path.join(tmp, unit));
        fs.mkdirSync(path.join(tmp, `${unit}.d`));
        fs.copyFileSync(dropIn, path.join(tmp, `${unit}.d`, path.basename(dropIn)));
        const before = analyze(path.join(tmp, unit));
        fs.rmSync(path.join(tmp, `${unit}.d`), { recursive: true });
        const without = analyze(path.join(tmp, unit));
        return { exposure: before.exposure, note: `${before.note} (packaged unit + hearth drop-in; packaged alone: ${without.exposure ?? "?"})` };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

export function formatSecurity(rows: SecurityRow[] | undefined, budget: number): string {
    if (rows === undefined) return "systemd-analyze is not installed: exposure scores skipped (apt-get install systemd).";
    if (rows.length === 0) return "No .service files in this plan: nothing to score.";
    const w = Math.max(4, ...rows.map((r) => r.host.length));
    const u = Math.max(4, ...rows.map((r) => r.unit.length));
    const lines = [`systemd-analyze security --offline=true (exposure 0.0 best .. 10.0 worst; budget ${budget})`, `  ${"host".padEnd(w)}  ${"unit".padEnd(u)}  exposure  verdict`];
    for (const r of rows) {
        const exp = r.exposure === undefined ? "-" : r.exposure.toFixed(1);
        const verdict = r.exposure === undefined ? r.note : `${r.exposure <= budget ? "within budget" : "OVER BUDGET"} (${r.note})`;
        lines.push(`  ${r.host.padEnd(w)}  ${r.unit.padEnd(u)}  ${exp.padStart(8)}  ${verdict}`);
    }
    return lines.join("\n");
}
