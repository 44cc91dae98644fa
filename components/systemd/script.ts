// The converge and delete scripts of a SystemdService: install atomically, reload and restart only on change.
//
// Pure: built with Script from shell.ts, every interpolated value through shq.
import { RenderedFile, Script, shq } from "../shell";
import { isLifelineUnit, MANAGED_MARKER } from "./model";

export type UnitPlan =
    | { readonly kind: "dropIn"; readonly unit: string; readonly file: string; readonly enable: boolean }
    | {
          readonly kind: "service" | "timer" | "socket";
          readonly unit: string;
          readonly timer?: string;
          readonly socket?: string;
          readonly proxy?: string;
          readonly stale: readonly { readonly unit: string; readonly file: string }[];
          readonly enable: boolean;
      };

export interface CredentialFile {
    readonly name: string;
    readonly path: string;
}

const PUT_SECRET = String.raw`hearth_put_secret() {
  chown -- root:root "$hearth_tmp"
  chmod -- 0600 "$hearth_tmp"
  if [ -f "$1" ] && [ ! -L "$1" ] && cmp -s -- "$hearth_tmp" "$1" && [ "$(stat -c '%a %U %G' -- "$1")" = "600 root root" ]; then
    rm -f -- "$hearth_tmp"
  else
    mv -f -T -- "$hearth_tmp" "$1"
    hearth_changed=$((hearth_changed + 1))
    echo "hearth: wrote $1"
  fi
  hearth_tmp=
}`;

/** `if` guard: the file exists and carries hearth's marker line, so it is ours to stop, disable and remove. */
function ours(file: string): string {
    return `[ -f ${shq(file)} ] && grep -qxF ${shq(MANAGED_MARKER)} ${shq(file)}`;
}

function isTemplate(unit: string): boolean {
    return unit.includes("@.");
}

function credentialLines(s: Script, credentials: readonly CredentialFile[], dir: string | undefined): void {
    if (!dir) return;
    if (credentials.length) {
        s.raw(PUT_SECRET, `mkdir -p -- ${shq(dir)}`, `chmod 0700 -- ${shq(dir)}`);
        for (const c of credentials) {
            // The secret goes straight from stdin into a root-only temp file beside its target; never through argv.
            s.secretToFile("hearth_tmp", `${dir}/.${c.name}.hearth-new`);
            s.raw(`hearth_put_secret ${shq(c.path)}`);
        }
    }
    // The directory belongs to this service: a credential dropped from its args is removed too.
    const keep = credentials.map((c) => shq(c.name)).join("|");
    s.raw(
        `if [ -d ${shq(dir)} ]; then`,
        `  for hearth_f in ${shq(dir)}/* ${shq(dir)}/.[!.]*; do`,
        `    if [ ! -f "$hearth_f" ] && [ ! -L "$hearth_f" ]; then continue; fi`,
        `    case \${hearth_f##*/} in`,
        ...(keep ? [`      ${keep}) ;;`] : []),
        `      *) hearth_remove "$hearth_f" ;;`,
        `    esac`,
        `  done`,
        ...(credentials.length ? [] : [`  rmdir --ignore-fail-on-non-empty -- ${shq(dir)}`]),
        `fi`,
    );
}

/** Where a converge run notes that a reload and restart are owed: set before them, cleared after them. */
export const PENDING_DIR = "/run/hearth";

/**
 * Turns "a file changed" into a marker that outlives a failed run, so the re-run still reloads and restarts even
 * though its files are already in place. /run is cleared at boot, when every unit starts from its files anyway.
 */
function pending(s: Script, unit: string): void {
    s.raw(
        `hearth_pending=${shq(`${PENDING_DIR}/${unit}.pending`)}`,
        `if [ "$hearth_changed" -gt 0 ]; then mkdir -p -- ${PENDING_DIR}; : > "$hearth_pending"; fi`,
        `if [ -e "$hearth_pending" ]; then systemctl daemon-reload; fi`,
    );
}

function whenPending(command: string): string {
    return `if [ -e "$hearth_pending" ]; then ${command}; fi`;
}

/** Start on every run (a no-op when running); restart only when something changed. */
function startOrRestart(s: Script, unit: string): void {
    s.raw(`if [ -e "$hearth_pending" ]; then systemctl restart ${shq(unit)}; else systemctl start ${shq(unit)}; fi`);
}

function done(s: Script): void {
    s.raw(`rm -f -- "$hearth_pending"`);
}

export function convergeScript(plan: UnitPlan, files: readonly RenderedFile[], credentials: readonly CredentialFile[], credentialDir: string | undefined): string {
    const s = new Script(`converge ${plan.unit}`);
    for (const f of files) s.install(f);
    credentialLines(s, credentials, credentialDir);

    if (plan.kind === "dropIn") {
        pending(s, plan.unit);
        if (isLifelineUnit(plan.unit)) {
            // Never restarted by hearth (the operator's way in, or the host's logging and naming): the drop-in applies
            // at the unit's next restart. Enabling and starting a stopped one cuts nothing off.
            if (plan.enable && !isTemplate(plan.unit)) s.raw(`systemctl enable -q --no-reload ${shq(plan.unit)}`, `systemctl start ${shq(plan.unit)}`);
            s.raw(whenPending(`echo ${shq(`hearth: ${plan.unit} is not restarted; the drop-in applies at its next restart`)}`));
        } else if (isTemplate(plan.unit)) {
            // A template cannot be enabled or started; restart the instances that run.
            const instances = plan.unit.replace("@.", "@*.");
            s.raw(whenPending(`systemctl try-restart ${shq(instances)}`));
        } else if (plan.enable) {
            s.raw(`systemctl enable -q --no-reload ${shq(plan.unit)}`);
            startOrRestart(s, plan.unit);
        } else {
            // The packaged unit's enablement is the distribution's; only apply the change where it already runs.
            s.raw(whenPending(`systemctl try-restart ${shq(plan.unit)}`));
        }
        done(s);
        return s.render();
    }

    for (const st of plan.stale) {
        s.raw(`if ${ours(st.file)}; then`, `  systemctl disable -q --now ${shq(st.unit)} || true`, `  hearth_remove ${shq(st.file)}`, `fi`);
    }
    pending(s, plan.unit);
    if (plan.kind === "service") {
        if (plan.enable) {
            s.raw(`systemctl enable -q --no-reload ${shq(plan.unit)}`);
            startOrRestart(s, plan.unit);
        } else {
            s.raw(`systemctl disable -q --now ${shq(plan.unit)}`);
        }
    } else if (plan.kind === "timer") {
        const timer = plan.timer!;
        if (plan.enable) {
            s.raw(`systemctl enable -q --no-reload ${shq(timer)}`);
            startOrRestart(s, timer);
        } else {
            s.raw(`systemctl disable -q --now ${shq(timer)}`);
        }
    } else {
        const socket = plan.socket!;
        const proxy = plan.proxy!;
        // A socket cannot be restarted under a running service; stop both, and the next connection starts the new ones.
        s.raw(whenPending(`systemctl stop ${shq(proxy)} ${shq(plan.unit)}`));
        if (plan.enable) {
            s.raw(`systemctl enable -q --no-reload ${shq(socket)}`);
            startOrRestart(s, socket);
        } else {
            s.raw(`systemctl disable -q --now ${shq(socket)}`);
            s.cmd("systemctl", "stop", proxy, plan.unit);
        }
    }
    done(s);
    return s.render();
}

/** Stops, disables and removes exactly the files hearth wrote (checked by their marker line), then reloads. */
export function deleteScript(plan: UnitPlan, files: readonly RenderedFile[], credentials: readonly CredentialFile[], credentialDir: string | undefined): string {
    const s = new Script(`delete ${plan.unit}`);
    if (plan.kind === "dropIn") {
        // The packaged unit stays as the distribution shipped it, running until its next restart.
        const file = plan.file;
        s.raw(`if ${ours(file)}; then hearth_remove ${shq(file)}; fi`);
        const dir = file.slice(0, file.lastIndexOf("/"));
        s.raw(`if [ -d ${shq(dir)} ]; then rmdir --ignore-fail-on-non-empty -- ${shq(dir)}; fi`);
        // Always: a re-run after a failure past the removal must still reload.
        s.raw("systemctl daemon-reload");
        return s.render();
    }
    // Triggers first (timer, socket), so nothing starts the service again while it is being stopped.
    const units = [plan.timer, plan.socket, plan.proxy, plan.unit].filter((u): u is string => u !== undefined);
    for (const u of units) {
        const file = files.find((f) => f.path.endsWith(`/${u}`))!.path;
        s.raw(`if ${ours(file)}; then systemctl disable -q --now ${shq(u)} || true; fi`);
    }
    for (const u of units) {
        const file = files.find((f) => f.path.endsWith(`/${u}`))!.path;
        s.raw(`if ${ours(file)}; then hearth_remove ${shq(file)}; fi`);
    }
    if (credentialDir) {
        for (const c of credentials) s.raw(`hearth_remove ${shq(c.path)}`);
        s.raw(`if [ -d ${shq(credentialDir)} ]; then rmdir --ignore-fail-on-non-empty -- ${shq(credentialDir)}; fi`);
    }
    s.raw("systemctl daemon-reload", `rm -f -- ${shq(`${PENDING_DIR}/${plan.unit}.pending`)}`);
    s.raw(`systemctl reset-failed ${units.map(shq).join(" ")} 2>/dev/null || true`);
    return s.render();
}
