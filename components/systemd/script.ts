// The converge and delete scripts of a SystemdService: short call sequences over the shared runtime (core/runtime.sh).
//
// Level-triggered: a daemon-reload comes from systemd's own state (hearth_daemon_reload), a restart from comparing the
// digest of what is installed (unit files, drop-in, credentials) with the digest recorded after the last restart
// that succeeded. So a run killed at any line (or whose SSH reader went away) finishes on the next run.
// Owned per resource: every file carries "# hearth-owner: <id>"; a converge claims each file before writing any, a
// rename within the resource removes what its mark is on but it no longer declares, a delete touches only files its
// mark is on. Pure: built with Script from shell.ts, every interpolated value through shq.
import type { OwnerMark } from "../core/owner";
import { createHash } from "crypto";
import { RenderedFile, Script, shq } from "../shell";
import { CREDSTORE_DIR, HEARTH_ETC, MANAGED_MARKER, UNIT_DIR } from "./model";

export interface CredentialFile {
    readonly name: string;
    readonly path: string;
}

/** Everything a SystemdService puts on its host, as the scripts need it. */
export interface ServicePlan {
    readonly kind: "service" | "timer" | "socket" | "dropIn";
    /** The unit hearth manages: the service, or for a drop-in the packaged unit it sits on. */
    readonly unit: string;
    readonly timer?: string;
    readonly socket?: string;
    readonly proxy?: string;
    readonly enable: boolean;
    /** The files hearth writes, the main one first (unit files or the drop-in). */
    readonly files: readonly RenderedFile[];
    /** Secrets, installed from the stdin frames after the files', in this order. */
    readonly credentials: readonly CredentialFile[];
    /** The service's credential directory (none for a drop-in). */
    readonly credentialDir?: string;
    /** Never restarted by hearth (the SSH daemon, journald, ...): the drop-in applies at the unit's next restart. */
    readonly neverRestart: boolean;
    readonly mark: OwnerMark;
    /** Config files (below `filesDir`), installed after the unit files and the tree's mark, in this stdin order. */
    readonly configFiles: readonly RenderedFile[];
    /** This resource's tree of config files (HEARTH_ETC/<unit>); its mark file says whose it is. */
    readonly filesDir: string;
    /** The mark file of `filesDir`, installed first when there are config files. */
    readonly treeMark: RenderedFile;
    /** Where the service sees each config file (the bind's destination), in `configFiles` order: each must exist on the host. */
    readonly targets: readonly string[];
    /** Files on the host another component writes (a HostFile) that the service uses: part of the restart decision. */
    readonly watched: readonly string[];
    /** The service declares ExecReload=: a change of its config files or watched files alone reloads it (credentials restart it). */
    readonly reload: boolean;
}

/** The name of the mark file at the top of a service's tree of config files. */
export const TREE_MARK = ".hearth-owner";

/** Where the digest of what was last applied (restarted) is recorded: `systemd/<file below UNIT_DIR, / as +>`. */
export function appliedKey(mainFile: string): string {
    return `systemd/${mainFile.slice(UNIT_DIR.length + 1).replace(/\//g, "+")}`;
}

function isTemplate(unit: string): boolean {
    return unit.includes("@.");
}

const q = (words: readonly string[]) => words.map(shq).join(" ");

/** Enables UNIT unless it is (a level: a run killed after enabling finds it enabled). */
function enable(s: Script, unit: string): void {
    s.raw(`if ! systemctl is-enabled -q -- ${shq(unit)}; then`, `  systemctl enable -q --no-reload -- ${shq(unit)}`, `  hearth_step`, `fi`);
}

/**
 * Disables and stops UNIT if it is enabled or running. With systemctl's own reload: it takes the unit out of its
 * targets' loaded dependencies, and no unit state would say a reload is still due for that (a rare path: a service
 * turned off, not removed).
 */
function disable(s: Script, unit: string): void {
    s.raw(
        `if systemctl is-enabled -q -- ${shq(unit)} || systemctl is-active -q -- ${shq(unit)}; then`,
        `  systemctl disable -q --now -- ${shq(unit)}`,
        `  hearth_step`,
        `fi`,
    );
}

function stopIfActive(s: Script, unit: string): void {
    s.raw(`if systemctl is-active -q -- ${shq(unit)}; then`, `  systemctl stop -- ${shq(unit)}`, `  hearth_step`, `fi`);
}

/** Sets hearth_d to the digest of what is installed now: unit files or drop-in, and credentials. */
function digest(s: Script, p: ServicePlan): void {
    const paths = [...p.files.map((f) => f.path), ...p.credentials.map((c) => c.path), ...p.configFiles.map((f) => f.path), ...p.watched];
    s.raw(`hearth_d=$(hearth_digest ${q(paths)})`);
}

/**
 * Restart UNIT when its unit files or credentials changed (or it never ran), reload it when only its config files or
 * the watched files it reads on the host changed and it runs, else start it when it is not running. The record is "<all> <unit files>",
 * so the next run tells the two apart from host state alone.
 */
function reloadRestartOrStart(s: Script, p: ServicePlan, unit: string): void {
    const key = shq(appliedKey(p.files[0].path));
    digest(s, p);
    // Restarted by a change of its unit files or its credentials (systemd copies them only at start). Reloaded by a
    // change of its config files (rewritten in place: the running service's binds hold their inodes) or watched files.
    s.raw(
        `hearth_u=$(hearth_digest ${q([...p.files.map((f) => f.path), ...p.credentials.map((c) => c.path)])})`,
        `hearth_a=$(hearth_applied ${key})`,
        `if [ "$hearth_d $hearth_u" != "$hearth_a" ]; then`,
        `  if [ "\${hearth_a#* }" = "$hearth_u" ] && systemctl is-active -q -- ${shq(unit)}; then`,
        `    systemctl reload -- ${shq(unit)}`,
        `  else`,
        `    systemctl restart -- ${shq(unit)}`,
        `  fi`,
        `  hearth_step`,
        `elif ! systemctl is-active -q -- ${shq(unit)}; then`,
        `  systemctl start -- ${shq(unit)}`,
        `  hearth_step`,
        `fi`,
        `hearth_record ${key} "$hearth_d $hearth_u"`,
    );
}

/**
 * Empties TREE (a service's tree of config files, below a root-only directory) of every file and link but `keep`,
 * and removes the directories left empty; with `all`, its mark file goes last and then the tree itself. Nothing below
 * it is followed (find -P): a link is removed as a link.
 */
function clearTree(s: Script, tree: string, keep: readonly string[], all: boolean): void {
    const mark = `${tree}/${TREE_MARK}`;
    const kept = [...keep, mark];
    s.raw(
        `if [ -d ${shq(tree)} ] && [ ! -L ${shq(tree)} ]; then`,
        `  while IFS= read -r -d '' hearth_f; do`,
        `    case $hearth_f in`,
        `      ${kept.map(shq).join(" | ")}) ;;`,
        `      *) hearth_remove "$hearth_f" ;;`,
        `    esac`,
        `  done < <(find -P ${shq(tree)} -mindepth 1 ! -type d -print0)`,
        `  while IFS= read -r -d '' hearth_f; do hearth_rmdir "$hearth_f"; done < <(find -P ${shq(tree)} -mindepth 1 -depth -type d -print0)`,
    );
    if (all) s.raw(`  hearth_remove ${shq(mark)}`, `  hearth_rmdir ${shq(tree)}`);
    s.raw(`fi`);
}

/**
 * Trees of config files this resource's mark is on other than `keep` (a renamed unit's, a moved drop-in's): emptied and
 * removed. The mark is the tree's last file and must go before the directory can, so a tombstone outside the tree
 * (`systemd-trees/<hash of the tree>`: "<tree> <owner>") is recorded first and forgotten only once the directory is
 * gone: a run killed between removing the mark and removing the directory leaves the tombstone, and the next run
 * (converge or delete) removes the unmarked, emptied directory.
 */
function staleTrees(s: Script, keep: string | undefined): void {
    s.raw(
        `while IFS= read -r hearth_m; do`,
        `  hearth_t=\${hearth_m%/*}`,
        ...(keep === undefined ? [] : [`  if [ "$hearth_t" = ${shq(keep)} ]; then continue; fi`]),
        `  hearth_record "systemd-trees/$(printf '%s' "$hearth_t" | sha256sum | cut -c1-32)" "$hearth_t $hearth_owner"`,
        `  while IFS= read -r -d '' hearth_f; do`,
        `    if [ "$hearth_f" != "$hearth_m" ]; then hearth_remove "$hearth_f"; fi`,
        `  done < <(find -P "$hearth_t" -mindepth 1 ! -type d -print0)`,
        `  while IFS= read -r -d '' hearth_f; do hearth_rmdir "$hearth_f"; done < <(find -P "$hearth_t" -mindepth 1 -depth -type d -print0)`,
        `  hearth_remove "$hearth_m"`,
        `  hearth_rmdir "$hearth_t"`,
        `done < <(hearth_marked ${HEARTH_ETC}/*/${TREE_MARK} ${HEARTH_ETC}/*.d/*/${TREE_MARK})`,
        // Tombstones of this resource: a tree that still has a mark is kept (this run's own) or someone else's now; an
        // unmarked one is what a killed removal left, holding nothing but directories it had emptied.
        `while IFS= read -r hearth_k; do`,
        `  hearth_v=$(hearth_applied "$hearth_k")`,
        `  hearth_t=\${hearth_v%% *}`,
        `  if ! hearth_mine "\${hearth_v#* }"; then continue; fi`,
        `  case $hearth_t in`,
        `    ${HEARTH_ETC}/?*)`,
        `      if [ -d "$hearth_t" ] && [ ! -L "$hearth_t" ] && [ ! -e "$hearth_t/${TREE_MARK}" ]; then`,
        `        while IFS= read -r -d '' hearth_f; do hearth_rmdir "$hearth_f"; done < <(find -P "$hearth_t" -mindepth 1 -depth -type d -print0)`,
        `        hearth_rmdir "$hearth_t"`,
        `      fi`,
        `      ;;`,
        `  esac`,
        `  hearth_forget "$hearth_k"`,
        `done < <(hearth_applied_keys systemd-trees)`,
    );
}

/**
 * A config file's target must exist on the host: systemd binds onto it, and where it is missing creates an empty file
 * (and its directories) in the host's own tree when the service starts, so the packaged tree would no longer be
 * untouched. Checked before anything is written; the run stops naming the argument.
 */
function targetsExist(s: Script, targets: readonly string[]): void {
    targets.forEach((t, i) => {
        const why = `files[${i}].target ${t} is not an existing file on the host: systemd would create an empty one (and its directories) in the host's own tree; install what ships it first (requires: its DebianPackages) or point target at an existing file`;
        s.raw(`if [ ! -e ${shq(t)} ] || [ -d ${shq(t)} ]; then hearth_die 66 ${shq(why)}; fi`);
    });
}

/**
 * The restart decision: restart (the `whenChanged` lines) when the installed digest differs from the one recorded
 * after the last restart that succeeded, otherwise the `otherwise` lines; then record the digest.
 */
function applyOnce(s: Script, p: ServicePlan, whenChanged: readonly string[], otherwise: readonly string[] = []): void {
    const key = shq(appliedKey(p.files[0].path));
    digest(s, p);
    s.raw(`if [ "$hearth_d" != "$(hearth_applied ${key})" ]; then`, ...whenChanged.map((l) => `  ${l}`));
    if (otherwise.length) s.raw(...otherwise);
    s.raw(`fi`, `hearth_record ${key} "$hearth_d"`);
}

/** Restart UNIT when what it runs changed, else start it when it is not running. */
function restartOrStart(s: Script, p: ServicePlan, unit: string): void {
    applyOnce(s, p, [`systemctl restart -- ${shq(unit)}`, `hearth_step`], [
        `elif ! systemctl is-active -q -- ${shq(unit)}; then`,
        `  systemctl start -- ${shq(unit)}`,
        `  hearth_step`,
    ]);
}

/** Claims every file before any is written: a file another resource owns stops the run here, with nothing changed. */
function claims(s: Script, paths: readonly string[]): void {
    s.raw(
        `hearth_legacy=${shq(MANAGED_MARKER)}`,
        `hearth_files=(${q(paths)})`,
        `for hearth_f in "\${hearth_files[@]}"; do`,
        `  if [ -e "$hearth_f" ] || [ -L "$hearth_f" ]; then hearth_claim "$hearth_f" "$(hearth_file_owner "$hearth_f" "$hearth_legacy")"; fi`,
        `done`,
    );
}

/** Credentials: installed 0600 root in a 0700 directory; any the service no longer declares are removed. */
function credentialLines(s: Script, p: ServicePlan): void {
    const dir = p.credentialDir;
    if (!dir) return;
    if (p.credentials.length) {
        s.raw(`hearth_dir ${shq(dir)} 0700`, `if [ "$(stat -c %a -- ${shq(dir)})" != 700 ]; then`, `  chmod 0700 -- ${shq(dir)}`, `  hearth_step`, `fi`);
        // Each secret goes straight from its stdin frame into a random temp name beside its target; never through argv.
        for (const c of p.credentials) s.raw(`hearth_install_secret ${shq(c.path)}`);
    }
    s.raw(`hearth_clear ${q([dir, ...p.credentials.map((c) => c.name)])}`);
}

/**
 * Files this resource's mark is on that it no longer declares (a renamed unit, a dropped timer or socket, a moved
 * drop-in): stopped (triggers first), their credentials removed, then the files; their units go into `hearth_stale_units`
 * for the one reload after every removal (disabled with --no-reload: each disable would be a reload of its own). Found by mark, never by name, so a
 * unit of another resource (a service named `web-proxy` beside `web`) is never touched.
 */
function staleLines(s: Script, p: ServicePlan): void {
    const globs = ["*.service", "*.timer", "*.socket", "*.d/*.conf"].map((g) => `${UNIT_DIR}/${g}`).join(" ");
    s.raw(
        `hearth_stale=()`,
        `while IFS= read -r hearth_f; do`,
        `  case $hearth_f in`,
        `    ${p.files.map((f) => shq(f.path)).join(" | ")}) ;;`,
        `    *) hearth_stale+=("$hearth_f") ;;`,
        `  esac`,
        `done < <(hearth_marked ${globs})`,
        `for hearth_f in "\${hearth_stale[@]}"; do`,
        `  case $hearth_f in *.timer | *.socket)`,
        `    systemctl disable -q --no-reload --now -- "\${hearth_f##*/}" || true`,
        `    hearth_step`,
        `    ;;`,
        `  esac`,
        `done`,
        `for hearth_f in "\${hearth_stale[@]}"; do`,
        `  case $hearth_f in *.service)`,
        `    systemctl disable -q --no-reload --now -- "\${hearth_f##*/}" || true`,
        `    hearth_step`,
        `    hearth_clear ${shq(CREDSTORE_DIR)}/"\${hearth_f##*/}"`,
        `    ;;`,
        `  esac`,
        `done`,
        `hearth_stale_units=()`,
        `for hearth_f in "\${hearth_stale[@]}"; do`,
        `  hearth_remove "$hearth_f"`,
        `  hearth_u=\${hearth_f%/*.conf}`,
        `  hearth_u=\${hearth_u##*/}`,
        `  hearth_stale_units+=("\${hearth_u%.d}")`,
        `  case $hearth_f in`,
        `    *.d/*.conf) hearth_rmdir "\${hearth_f%/*}" ;;`,
        // A renamed unit that had replaced a packaged one: a DebianPackages mask pending behind it is due now.
        `    *) hearth_apt_mask_pending "\${hearth_f##*/}" ;;`,
        `  esac`,
        `done`,
    );
}

/**
 * A digest recorded for a file that is gone means a removal that may not have been reloaded yet (a run killed between
 * removing a unit file and the daemon-reload): the units of those files (and the units in shell array `extra`, whose
 * files the caller removed) are reloaded if systemd still holds them stale, then the digests are forgotten. A level,
 * shared by converge and delete.
 */
function forgetRemoved(s: Script, extra?: string): void {
    s.raw(
        `hearth_gone=()`,
        `hearth_gone_units=(${extra === undefined ? "" : `"\${${extra}[@]}"`})`,
        `while IFS= read -r hearth_k; do`,
        `  hearth_f=\${hearth_k#systemd/}`,
        `  hearth_f=\${hearth_f//+//}`,
        `  if [ ! -e ${shq(UNIT_DIR)}/"$hearth_f" ]; then`,
        `    hearth_gone+=("$hearth_k")`,
        // A drop-in's unit is the one it sits on.
        `    case $hearth_f in */*) hearth_f=\${hearth_f%%/*} && hearth_f=\${hearth_f%.d} ;; esac`,
        `    hearth_gone_units+=("$hearth_f")`,
        `  fi`,
        `done < <(hearth_applied_keys systemd)`,
        `if [ "\${#hearth_gone_units[@]}" -gt 0 ]; then hearth_daemon_reload --gone "\${hearth_gone_units[@]}"; fi`,
        `for hearth_k in "\${hearth_gone[@]}"; do`,
        `  hearth_f=\${hearth_k#systemd/}`,
        `  case $hearth_f in *+*) hearth_rmdir ${shq(UNIT_DIR)}/"\${hearth_f%%+*}" ;; esac`,
        `  hearth_forget "$hearth_k"`,
        `done`,
    );
}

export function convergeScript(p: ServicePlan): string {
    const s = new Script(`converge ${p.unit}`).owner(p.mark);
    lock(s, p);
    const withFiles = p.configFiles.length > 0;
    targetsExist(s, p.targets);
    claims(s, [...p.files.map((f) => f.path), ...(withFiles ? [p.treeMark.path] : [])]);
    for (const f of p.files) s.install(f);
    if (withFiles) {
        // The mark first: a tree that holds config files always says whose it is.
        s.install(p.treeMark);
        // A reloadable service's config files keep their inodes, so its binds see the new content on reload.
        for (const f of p.configFiles) s.install(f, { inPlace: p.reload });
        clearTree(s, p.filesDir, p.configFiles.map((f) => f.path), false);
    }
    credentialLines(s, p);
    staleLines(s, p);
    staleTrees(s, withFiles ? p.filesDir : undefined);
    forgetRemoved(s, "hearth_stale_units");

    if (p.kind === "dropIn") {
        const dropIn = p.files[0].path;
        if (isTemplate(p.unit)) {
            // A template cannot be enabled or started: reload if a loaded instance is stale, restart the running ones.
            const instances = p.unit.replace("@.", "@*.");
            s.raw(`mapfile -t hearth_units < <(systemctl list-units --all --plain --no-legend -- ${shq(instances)} | cut -d' ' -f1)`);
        } else {
            s.raw(`hearth_units=(${shq(p.unit)})`);
        }
        // systemd finds a drop-in directory created since its last reload only on the next reload, and NeedDaemonReload
        // does not say so: a loaded unit whose drop-ins do not include this one is stale too (--dropin).
        s.raw(`hearth_daemon_reload --dropin ${shq(dropIn)} "\${hearth_units[@]}"`);
        if (p.neverRestart) {
            // The operator's way in, or the host's logging and naming: never restarted, stopped or try-restarted by
            // hearth. Enabling and starting a stopped one cuts nothing off.
            if (p.enable && !isTemplate(p.unit)) {
                enable(s, p.unit);
                s.raw(`if ! systemctl is-active -q -- ${shq(p.unit)}; then`, `  systemctl start -- ${shq(p.unit)}`, `  hearth_step`, `fi`);
            }
            applyOnce(s, p, [`hearth_say ${shq(`${p.unit} is not restarted; the drop-in applies at its next restart (hearth never restarts it)`)}`]);
        } else if (isTemplate(p.unit)) {
            applyOnce(s, p, [`systemctl try-restart -- ${shq(p.unit.replace("@.", "@*."))}`, `hearth_step`]);
        } else if (p.enable) {
            enable(s, p.unit);
            restartOrStart(s, p, p.unit);
        } else {
            // The packaged unit's enablement is the distribution's; the change applies where it already runs.
            applyOnce(s, p, [`systemctl try-restart -- ${shq(p.unit)}`, `hearth_step`]);
        }
        return s.render();
    }

    const units = [p.unit, p.timer, p.socket, p.proxy].filter((u): u is string => u !== undefined);
    // A unit loaded from another file (a packaged one of the same name) that hearth's now outranks: its running
    // instance was started from that file, so the record of the last restart is forgotten before the reload and the
    // restart decision below restarts it (a level: a run killed after the reload still restarts it).
    s.raw(`hearth_daemon_reload --forget ${shq(appliedKey(p.files[0].path))} ${q(units)}`);
    if (p.kind === "service") {
        if (p.enable) {
            enable(s, p.unit);
            if (p.reload) reloadRestartOrStart(s, p, p.unit);
            else restartOrStart(s, p, p.unit);
        } else {
            disable(s, p.unit);
            applyOnce(s, p, []);
        }
    } else if (p.kind === "timer") {
        const timer = p.timer!;
        if (p.enable) {
            enable(s, timer);
            restartOrStart(s, p, timer);
        } else {
            disable(s, timer);
            applyOnce(s, p, []);
        }
    } else {
        const socket = p.socket!;
        const proxy = p.proxy!;
        if (p.enable) {
            enable(s, socket);
            // A socket cannot be restarted under a running service: stop both; the next connection starts the new ones.
            applyOnce(s, p, [`systemctl stop -- ${shq(proxy)} ${shq(p.unit)}`, `hearth_step`, `systemctl restart -- ${shq(socket)}`, `hearth_step`], [
                `elif ! systemctl is-active -q -- ${shq(socket)}; then`,
                `  systemctl start -- ${shq(socket)}`,
                `  hearth_step`,
            ]);
        } else {
            disable(s, socket);
            stopIfActive(s, proxy);
            stopIfActive(s, p.unit);
            applyOnce(s, p, []);
        }
    }
    return s.render();
}

/**
 * Stops, disables and removes the files this resource's mark is on (or the mark of an earlier release), credentials
 * with the service; a file another resource owns is left alone, and the run says so. Then reloads.
 */
export function deleteScript(p: ServicePlan): string {
    const s = new Script(`delete ${p.unit}`).owner(p.mark);
    lock(s, p);
    s.raw(`hearth_legacy=${shq(MANAGED_MARKER)}`);
    const main = p.files[0].path;
    // Triggers first (timer, socket), so nothing starts the service again while it is being stopped; the main file last.
    const paths = [...p.files.slice(1).map((f) => f.path), main];
    s.raw(
        `hearth_ours=()`,
        `hearth_files=(${q(paths)})`,
        `for hearth_f in "\${hearth_files[@]}"; do`,
        `  if [ -e "$hearth_f" ] || [ -L "$hearth_f" ]; then`,
        `    hearth_o=$(hearth_file_owner "$hearth_f" "$hearth_legacy")`,
        `    if hearth_mine "$hearth_o"; then`,
        `      hearth_ours+=("$hearth_f")`,
        `    else`,
        `      hearth_say "leaving $hearth_f alone: it is owned by \${hearth_o:-no hearth resource}, not by $hearth_owner"`,
        `    fi`,
        `  fi`,
        `done`,
    );
    if (p.kind === "dropIn") {
        // The packaged unit stays as the distribution shipped it, running until its next restart.
        const dir = main.slice(0, main.lastIndexOf("/"));
        // The directory goes when it is empty, whoever emptied it (a run killed right after removing the file too).
        staleTrees(s, undefined);
        s.raw(`for hearth_f in "\${hearth_ours[@]}"; do hearth_remove "$hearth_f"; done`, `hearth_rmdir ${shq(dir)}`);
        forgetRemoved(s);
        return s.render();
    }
    s.raw(
        `for hearth_f in "\${hearth_ours[@]}"; do`,
        // No reload per disable: the one after the files are gone (below) covers them all.
        `  systemctl disable -q --no-reload --now -- "\${hearth_f##*/}" || true`,
        `  hearth_step`,
        `done`,
    );
    // Every tree of config files this resource's mark is on (found by mark, never by name).
    staleTrees(s, undefined);
    if (p.credentialDir) {
        // Before the main file: once it is gone, nothing says these are this resource's.
        s.raw(`case " \${hearth_ours[*]} " in *${shq(` ${main} `)}*) hearth_clear ${shq(p.credentialDir)} ;; esac`);
    }
    s.raw(`for hearth_f in "\${hearth_ours[@]}"; do hearth_remove "$hearth_f"; done`);
    const units = paths.map((f) => f.slice(UNIT_DIR.length + 1));
    // A unit whose file is gone but that systemd still holds loaded (NeedDaemonReload) was removed without a reload:
    // every unit of the resource is asked, so a run killed after the removal still reloads.
    s.raw(`hearth_units=(${q(units)})`);
    forgetRemoved(s, "hearth_units");
    // A packaged unit of the same name that a DebianPackages resource no longer keeps is masked now that its
    // replacement is gone (that resource recorded the mask as pending); nothing otherwise.
    // (It decides from the host: a unit file still there, or the mask set by a run killed right after it.)
    s.raw(`for hearth_u in "\${hearth_units[@]}"; do hearth_apt_mask_pending "$hearth_u"; done`);
    s.raw(
        `for hearth_u in "\${hearth_units[@]}"; do`,
        `  if [ ! -e ${shq(UNIT_DIR)}/"$hearth_u" ] && [ "$(systemctl show -p ActiveState --value -- "$hearth_u")" = failed ]; then`,
        `    systemctl reset-failed -- "$hearth_u"`,
        `    hearth_step`,
        `  fi`,
        `done`,
    );
    return s.render();
}

/**
 * One script per unit at a time: a converge whose SSH client died keeps running on the host, and must not record its
 * digest after a newer run recorded its own. The lock is per unit (so services still converge in parallel), named by
 * a hash because unit names may hold characters lock names may not.
 */
function lock(s: Script, p: ServicePlan): void {
    s.raw(`hearth_lock ${shq(`systemd-${createHash("sha256").update(p.unit).digest("hex").slice(0, 16)}`)}`);
}
