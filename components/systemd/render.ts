// Pure renderer of a SystemdService: resolved args in; unit files, the converge and delete scripts, and their hash out.
import type { OwnerMark } from "../core/owner";
import { contentHash, RenderedFile } from "../shell";
import { IniLine, IniSection, renderIni, systemdExecLine, systemdQuote, systemdSpecifierEscape } from "./ini";
import { LOCAL_ADDRESSES, sandboxLines, SandboxSpec } from "./hardening";
import { credentialPath, CREDSTORE_DIR, filesDir, isLifelineUnit, MANAGED_HEADER, proxyUnits, ResolvedService, SOCKET_PROXYD, timerUnit, UNIT_DIR } from "./model";
import { serviceCheck } from "./drift";
import { convergeScript, deleteScript, ServicePlan, TREE_MARK } from "./script";

export interface RenderedService {
    /** The unit hearth manages (for a drop-in: the packaged unit it sits on). */
    readonly unitName: string;
    /** The main file: the service unit, or the drop-in. */
    readonly unitText: string;
    /** Every file the converge script installs, in stdin order (credentials are not files here: they are secret). */
    readonly files: readonly RenderedFile[];
    readonly script: string;
    readonly deleteScript: string;
    /** The read-only drift check lines the converge carries (drift.ts): not part of `hash`. */
    readonly check: readonly string[];
    /** SHA-256 over the scripts and file contents: the first line of the converge command. */
    readonly hash: string;
}

const HEADER = MANAGED_HEADER.replace(/^# /, "");

/**
 * The header of every file hearth writes: what it is, and the owner line naming the one resource that owns the file.
 * Not the earlier releases' marker line, which their deletes match exactly (see MANAGED_MARKER).
 */
function header(mark: OwnerMark): string[] {
    return [HEADER, `hearth-owner: ${mark.id}`];
}

// A drop-in's list settings would otherwise be merged with the packaged unit's; an empty assignment resets them first.
const RESET_IN_DROP_IN = new Set(["CapabilityBoundingSet", "AmbientCapabilities", "RestrictAddressFamilies", "SystemCallFilter", "IPAddressAllow", "IPAddressDeny", "SocketBindAllow", "SocketBindDeny"]);

function withResets(lines: readonly IniLine[]): IniLine[] {
    const seen = new Set<string>();
    const out: IniLine[] = [];
    for (const line of lines) {
        if (!("comment" in line)) {
            const key = (line as readonly [string, string])[0];
            if (RESET_IN_DROP_IN.has(key) && !seen.has(key)) {
                seen.add(key);
                out.push([key, ""]);
                // An empty value is the reset itself: writing it twice says nothing more.
                if ((line as readonly [string, string])[1] === "") continue;
            }
        }
        out.push(line);
    }
    return out;
}

function limitLines(r: ResolvedService): IniLine[] {
    const lines: IniLine[] = [];
    if (r.memoryMaxMiB !== undefined) lines.push(["MemoryMax", `${r.memoryMaxMiB}M`]);
    if (r.cpuQuotaPercent !== undefined) lines.push(["CPUQuota", `${r.cpuQuotaPercent}%`]);
    if (r.tasksMax !== undefined) lines.push(["TasksMax", String(r.tasksMax)]);
    // Written even at systemd's default, so a changed distribution default cannot change what a service does on OOM.
    lines.push(["OOMPolicy", r.oomPolicy]);
    return lines;
}

function directoryLines(r: ResolvedService): IniLine[] {
    const lines: IniLine[] = [];
    if (r.stateDirectory) lines.push(["StateDirectory", r.stateDirectory]);
    if (r.cacheDirectory) lines.push(["CacheDirectory", r.cacheDirectory]);
    if (r.runtimeDirectory) lines.push(["RuntimeDirectory", r.runtimeDirectory]);
    if (r.logsDirectory) lines.push(["LogsDirectory", r.logsDirectory]);
    return lines;
}

function appSandbox(r: ResolvedService): SandboxSpec {
    return {
        identity: r.identity,
        network: r.network,
        loopbackInet: r.socket !== undefined && r.network === "none",
        listenPorts: r.listenPorts,
        bindPorts: r.socket ? [r.socket.targetPort] : [],
        readWritePaths: r.readWritePaths,
        bindPaths: r.bindPaths,
        bindReadOnlyPaths: [...r.bindReadOnlyPaths, ...r.files.map((f) => ({ source: f.source, target: f.target }))],
        loosen: r.loosen,
    };
}

/**
 * Ordering on other components: `Requires=`/`Wants=` pull their units in, `After=` orders after every referenced unit,
 * `RequiresMountsFor=` waits for (and pulls in) the mounts of every referenced dataset. One line each, sorted.
 */
function dependencyLines(r: ResolvedService): IniLine[] {
    const all = [...r.after, ...r.requires, ...r.wants];
    const join = (v: readonly string[]) => [...new Set(v)].sort().join(" ");
    const lines: IniLine[] = [];
    const requires = join(r.requires.flatMap((d) => d.units));
    const wants = join(r.wants.flatMap((d) => d.units));
    const after = join(all.flatMap((d) => d.units));
    const mounts = join(all.flatMap((d) => d.mounts));
    if (requires) lines.push(["Requires", requires]);
    if (wants) lines.push(["Wants", wants]);
    if (after) lines.push(["After", after]);
    if (mounts) lines.push(["RequiresMountsFor", mounts]);
    return lines;
}

/** The readiness wait: the proxy connects once, so the app must be listening before the proxy starts. */
function readinessProbe(port: number): string[] {
    return ["/bin/bash", "-c", `until (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; do sleep 0.1; done`];
}

function serviceUnit(r: ResolvedService, mark: OwnerMark): string {
    const unit: IniLine[] = [["Description", systemdSpecifierEscape(r.description ?? r.unitName)]];
    if (r.network !== "none") unit.push(["After", "network.target"]);
    // Scale to zero: once the idle proxy exits, nothing needs the app any more and systemd stops it.
    if (r.socket) unit.push(["StopWhenUnneeded", "yes"]);
    if (r.startWhenExists) unit.push(["ConditionPathExists", r.startWhenExists]);
    unit.push(...dependencyLines(r));

    const service: IniLine[] = [["Type", r.type], ["ExecStart", systemdExecLine(r.execStart)]];
    // A oneshot service (not a timer job) stays active once it ran, so a converge does not start it again.
    if (r.type === "oneshot" && !r.timer) service.push(["RemainAfterExit", "yes"]);
    if (r.execReload.length) service.push(["ExecReload", systemdExecLine(r.execReload)]);
    if (r.socket) service.push(["ExecStartPost", systemdExecLine(readinessProbe(r.socket.targetPort))]);
    if (r.workingDirectory) service.push(["WorkingDirectory", r.workingDirectory]);
    if (r.environmentFile) service.push(["EnvironmentFile", r.environmentFile]);
    for (const [k, v] of r.environment) service.push(["Environment", systemdQuote(`${k}=${v}`)]);
    for (const c of r.credentials) service.push(["LoadCredential", `${c}:${credentialPath(r.unitName, c)}`]);
    service.push(["Restart", r.restart]);
    if (r.restart !== "no") service.push(["RestartSec", `${r.restartSec}s`]);
    service.push(...directoryLines(r), ...sandboxLines(appSandbox(r)), ...limitLines(r));

    const sections: IniSection[] = [{ name: "Unit", lines: unit }, { name: "Service", lines: service }];
    if (!r.timer && !r.socket) sections.push({ name: "Install", lines: [["WantedBy", "multi-user.target"]] });
    return renderIni(sections, header(mark));
}

function dropInUnit(r: ResolvedService, mark: OwnerMark): string {
    if (isLifelineUnit(r.unitName)) {
        // sshd's sandbox is every login session's (ProtectSystem, an empty capability set or NoNewPrivileges there lock
        // administration out at the next restart), and journald, logind, dbus, networkd and resolved serve the whole
        // system: over these a drop-in carries resource limits only.
        const lines = [...header(mark), `Drop-in over ${r.unitName}, which hearth never cuts off: resource limits only, no sandbox.`];
        if (r.description) lines.push(r.description);
        return renderIni([{ name: "Service", lines: limitLines(r) }], lines);
    }
    const service = withResets([...directoryLines(r), ...sandboxLines(appSandbox(r)), ...limitLines(r)]);
    const lines = [...header(mark), `Drop-in over the packaged ${r.unitName}: hardening and limits only.`];
    if (r.description) lines.push(r.description);
    const deps = dependencyLines(r);
    const sections: IniSection[] = deps.length ? [{ name: "Unit", lines: deps }] : [];
    return renderIni([...sections, { name: "Service", lines: service }], lines);
}

function timerFile(r: ResolvedService, mark: OwnerMark): string {
    const t = r.timer!;
    const timer: IniLine[] = [["OnCalendar", t.onCalendar], ["Persistent", t.persistent ? "yes" : "no"]];
    if (t.randomizedDelaySec > 0) timer.push(["RandomizedDelaySec", `${t.randomizedDelaySec}s`]);
    return renderIni(
        [
            { name: "Unit", lines: [["Description", `Schedule of ${r.unitName}`]] },
            { name: "Timer", lines: timer },
            { name: "Install", lines: [["WantedBy", "timers.target"]] },
        ],
        header(mark),
    );
}

function socketFile(r: ResolvedService, mark: OwnerMark): string {
    const s = r.socket!;
    const socket: IniLine[] = [["ListenStream", s.listenStream]];
    if (r.network === "local") {
        // The socket's own filter guards who may connect; the proxy's applies only to sockets the proxy opens.
        socket.push(["IPAddressAllow", LOCAL_ADDRESSES], ["IPAddressDeny", "any"]);
    }
    return renderIni(
        [
            { name: "Unit", lines: [["Description", `Socket of ${r.unitName} (starts it on demand)`]] },
            { name: "Socket", lines: socket },
            { name: "Install", lines: [["WantedBy", "sockets.target"]] },
        ],
        header(mark),
    );
}

function proxyFile(r: ResolvedService, mark: OwnerMark): string {
    const s = r.socket!;
    const { socket } = proxyUnits(r.unitName);
    const unit: IniLine[] = [
        ["Description", `Idle-stopping proxy in front of ${r.unitName}`],
        ["BindsTo", r.unitName],
        ["After", r.unitName],
        ["Requires", socket],
        ["After", socket],
    ];
    // With a private network the app's 127.0.0.1 exists only in its namespace: the proxy joins it.
    if (r.network === "none") unit.push(["JoinsNamespaceOf", r.unitName]);
    const sandbox: SandboxSpec = {
        identity: { kind: "dynamic" },
        network: r.network === "none" ? "none" : "internet",
        loopbackInet: true,
        listenPorts: [],
        readWritePaths: [],
        bindPaths: [],
        bindReadOnlyPaths: [],
        loosen: {},
    };
    const service: IniLine[] = [
        ["Type", "exec"],
        ["ExecStart", systemdExecLine([SOCKET_PROXYD, `--exit-idle-time=${s.idleStopSec}s`, `127.0.0.1:${s.targetPort}`])],
        ...sandboxLines(sandbox),
        ["TasksMax", "32"],
        ["OOMPolicy", "kill"],
    ];
    return renderIni([{ name: "Unit", lines: unit }, { name: "Service", lines: service }], header(mark));
}

/** Unit names and files of a resolved service, main file first. */
function plan(r: ResolvedService, mark: OwnerMark): { plan: ServicePlan; unitText: string } {
    const file = (path: string, content: string): RenderedFile => ({ path, content, mode: 0o644 });
    const tree = filesDir(r.unitName, r.dropIn);
    const base = {
        enable: r.enable,
        mark,
        neverRestart: isLifelineUnit(r.unitName),
        // An Output's text is framed on stdin when it resolves; its hash travels on the command's `hearth-uses` line.
        configFiles: r.files.map((f): RenderedFile => ({ path: f.source, content: f.content ?? "", mode: f.mode })),
        filesDir: tree,
        targets: r.files.map((f) => f.target),
        treeMark: file(`${tree}/${TREE_MARK}`, `${header(mark).map((l) => `# ${l}`).join("\n")}\n# This tree holds config files bound read-only into ${r.unitName}.\n`),
        watched: [...new Set([...r.after, ...r.requires, ...r.wants].flatMap((d) => d.files))].sort(),
        reload: r.execReload.length > 0,
    };
    if (r.dropIn) {
        const text = dropInUnit(r, mark);
        const path = `${UNIT_DIR}/${r.unitName}.d/${r.dropIn.name}.conf`;
        return { plan: { ...base, kind: "dropIn", unit: r.unitName, files: [file(path, text)], credentials: [] }, unitText: text };
    }
    const text = serviceUnit(r, mark);
    const files = [file(`${UNIT_DIR}/${r.unitName}`, text)];
    const timer = timerUnit(r.unitName);
    const { socket, proxy } = proxyUnits(r.unitName);
    if (r.timer) files.push(file(`${UNIT_DIR}/${timer}`, timerFile(r, mark)));
    if (r.socket) files.push(file(`${UNIT_DIR}/${socket}`, socketFile(r, mark)), file(`${UNIT_DIR}/${proxy}`, proxyFile(r, mark)));
    return {
        plan: {
            ...base,
            kind: r.timer ? "timer" : r.socket ? "socket" : "service",
            unit: r.unitName,
            timer: r.timer ? timer : undefined,
            socket: r.socket ? socket : undefined,
            proxy: r.socket ? proxy : undefined,
            files,
            credentials: r.credentials.map((c) => ({ name: c, path: credentialPath(r.unitName, c) })),
            credentialDir: `${CREDSTORE_DIR}/${r.unitName}`,
        },
        unitText: text,
    };
}

/**
 * Renders everything a service puts on its host, marked as owned by `mark` (the resource's owner mark). Deterministic:
 * the same resolved args and mark give the same bytes.
 */
export function renderService(r: ResolvedService, mark: OwnerMark): RenderedService {
    const { plan: p, unitText } = plan(r, mark);
    const script = convergeScript(p);
    const del = deleteScript(p);
    const files = [...p.files, ...(p.configFiles.length ? [p.treeMark, ...p.configFiles] : [])];
    const hash = contentHash(script, del, ...files.flatMap((f) => [f.path, f.mode.toString(8), f.content]));
    return { unitName: r.unitName, unitText, files, script, deleteScript: del, check: serviceCheck(p), hash };
}
