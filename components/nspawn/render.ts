// NspawnContainer renderer: the .nspawn file, the unit drop-in, the files put inside the rootfs, converge and delete scripts. Pure.
import { createHash } from "crypto";
import type { ContainerProps } from "../core/props";
import { OwnerMark } from "../core/owner";
import { NSPAWN_HOST_KEY } from "../core/protocols";
import { RenderedFile, Script, shq } from "../shell";

export const MACHINES_DIR = "/var/lib/machines";
export const NSPAWN_DIR = "/etc/systemd/nspawn";
/** Host-side copies of what goes inside the rootfs: the script copies them in as the container's owner. */
export const STAGE_DIR = "/var/lib/hearth/nspawn";
/** Applied-state keys (hearth_applied / hearth_record). */
export const appliedKey = (machine: string) => `nspawn/${machine}`;
export const identityKey = (machine: string) => `nspawn-identity/${machine}`;
export const hostKeyKey = (machine: string) => `nspawn-hostkey/${machine}`;

export interface ContainerSpec {
    readonly machine: string;
    readonly hostname: string;
    readonly rootfs: ContainerProps["rootfs"];
    readonly network: ContainerProps["network"];
    readonly addresses: readonly string[];
    readonly gateways: readonly string[];
    readonly binds: ContainerProps["binds"];
    readonly capabilities: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
    readonly memoryMaxMiB: number;
    readonly cpuQuotaPercent?: number;
    readonly tasksMax: number;
    readonly ephemeral: boolean;
    readonly ownership: "auto" | "chown" | "map";
    readonly authorizedKey: string;
    /** Remove a copied rootfs on delete (a ZFS clone is its ZfsDataset's to destroy). Kept unless asked. */
    readonly destroyOnDelete: boolean;
}

type Section = { readonly name: string; readonly lines: ReadonlyArray<readonly [string, string] | string> };

/** The one INI serializer for .nspawn, .network and unit files: values are single lines; strings alone are comments. */
export function ini(header: readonly string[], sections: readonly Section[]): string {
    const out = header.map((h) => `# ${oneLine(h)}`);
    for (const s of sections) {
        if (out.length) out.push("");
        out.push(`[${s.name}]`);
        for (const l of s.lines) out.push(typeof l === "string" ? `# ${oneLine(l)}` : `${l[0]}=${oneLine(l[1])}`);
    }
    return out.join("\n") + "\n";
}

function oneLine(s: string): string {
    if (/[\x00-\x1f\x7f]/.test(s)) throw new Error(`value must be one line without control characters: ${JSON.stringify(s)}`);
    return s;
}

export function nspawnPath(machine: string): string {
    return `${NSPAWN_DIR}/${machine}.nspawn`;
}

export function dropInPath(machine: string): string {
    return `/etc/systemd/system/systemd-nspawn@${machine}.service.d/50-hearth.conf`;
}

/** The header line of .nspawn files written by earlier releases (their shared ownership mark). */
export function legacyNspawnHeader(machine: string): string {
    return `# hearth: container ${machine}. Managed by hearth: edits are overwritten.`;
}

/** The .nspawn settings: booted, private users, private network, read-only binds unless asked, added capabilities with reasons. */
export function renderNspawnFile(c: ContainerSpec, mark: OwnerMark): string {
    const exec: Section["lines"][number][] = [["Boot", "yes"], ["Hostname", c.hostname], ["PrivateUsers", "pick"]];
    for (const cap of c.capabilities) exec.push(cap.reason, ["Capability", cap.name]);
    if (c.ephemeral) exec.push(["Ephemeral", "yes"]);
    const files: Section["lines"][number][] = [["PrivateUsersOwnership", c.ownership]];
    for (const b of c.binds) files.push([b.readWrite ? "Bind" : "BindReadOnly", b.source === b.target ? b.source : `${b.source}:${b.target}`]);
    const network: Section["lines"][number][] = c.network.kind === "bridge"
        ? [["Private", "yes"], ["VirtualEthernet", "yes"], ["Bridge", c.network.iface]]
        : [["Private", "yes"], ["VirtualEthernet", "no"], ["MACVLAN", c.network.iface]];
    return ini([`hearth: container ${c.machine}. Managed by hearth: edits are overwritten.`, `hearth-owner: ${mark.id}`], [
        { name: "Exec", lines: exec },
        { name: "Files", lines: files },
        { name: "Network", lines: network },
    ]);
}

/** Resource limits on systemd-nspawn@<machine>.service. */
export function renderDropIn(c: ContainerSpec, mark: OwnerMark): string {
    const lines: Array<readonly [string, string]> = [["MemoryMax", `${c.memoryMaxMiB}M`], ["TasksMax", String(c.tasksMax)]];
    if (c.cpuQuotaPercent !== undefined) lines.push(["CPUQuota", `${c.cpuQuotaPercent}%`]);
    return ini([`hearth: resource limits of container ${c.machine}.`, `hearth-owner: ${mark.id}`], [{ name: "Service", lines }]);
}

/** The container side of the network: systemd-networkd inside gives the interface its planned addresses. */
export function renderNetworkFile(c: ContainerSpec): string {
    const name = c.network.kind === "bridge" ? "host0" : `mv-${c.network.iface}`.slice(0, 15);
    return ini([`hearth: addresses of container ${c.machine}; sorted before nspawn's DHCP default.`], [
        { name: "Match", lines: [["Name", name]] },
        { name: "Network", lines: [...c.addresses.map((a) => ["Address", a] as const), ...c.gateways.map((g) => ["Gateway", g] as const), ["LinkLocalAddressing", "no"], ["IPv6AcceptRA", "no"]] },
    ]);
}

/** Files put inside the rootfs (paths relative to it), with their modes. */
export function innerFiles(c: ContainerSpec): Array<{ rel: string; content: string; mode: number }> {
    return [
        { rel: "etc/systemd/network/10-hearth.network", content: renderNetworkFile(c), mode: 0o644 },
        { rel: "etc/hostname", content: `${c.hostname}\n`, mode: 0o644 },
        { rel: "root/.ssh/authorized_keys", content: `${c.authorizedKey}\n`, mode: 0o600 },
    ];
}

/** The header line of drop-ins written by earlier releases (their shared ownership mark). */
export function legacyDropInHeader(machine: string): string {
    return `# hearth: resource limits of container ${machine}.`;
}

/** Where a staged inner file lives on the host (root-only), copied into the tree from there. */
export function stagedPath(machine: string, rel: string): string {
    return `${STAGE_DIR}/${machine}/${rel.replace(/\//g, "_")}`;
}

/** The rendered files: .nspawn, drop-in, then the staged inner files, in the order the script reads them. */
export function renderFiles(c: ContainerSpec, mark: OwnerMark): RenderedFile[] {
    return [
        { path: nspawnPath(c.machine), content: renderNspawnFile(c, mark), mode: 0o644 },
        { path: dropInPath(c.machine), content: renderDropIn(c, mark), mode: 0o644 },
        ...innerFiles(c).map((f) => ({ path: stagedPath(c.machine, f.rel), content: f.content, mode: 0o600 })),
    ];
}

const mode8 = (m: number) => m.toString(8).padStart(4, "0");

/**
 * Converges the container, level-triggered: the settings and staged inner files are installed on the host (the
 * .nspawn file first: it carries the ownership mark), and when their digest differs from what was last applied
 * (`hearth_applied nspawn/<machine>`), or the tree's identity mark is not this tree's, or a file it put inside no longer
 * holds what it put there (read whenever the tree may be: as its owner, or idle), the container is stopped, its
 * tree brought up to date, started, waited for, and only then the digest recorded. Everything below the tree is read
 * and written as the tree's owner (hearth_*_below); a tree owned by root (a fresh copy before its first boot, or an
 * id-mapped one) only while the container is stopped. The identity (an empty machine-id, fresh SSH host keys) is
 * made once per tree: its mark inside holds a random token recorded on the host. Prints the SSH host key recorded
 * when the identity was read.
 */
export function renderConverge(c: ContainerSpec, mark: OwnerMark): { script: string; files: RenderedFile[] } {
    const m = c.machine;
    const root = `${MACHINES_DIR}/${m}`;
    const unit = `systemd-nspawn@${m}.service`;
    const nspawn = nspawnPath(m);
    const dropIn = dropInPath(m);
    const files = renderFiles(c, mark);
    const inner = innerFiles(c);
    const what = `container ${m}`;
    const s = new Script(what).owner(mark);
    s.raw(
        `for hearth_tool in systemd-nspawn systemctl ssh-keygen ip setpriv; do command -v "$hearth_tool" >/dev/null || hearth_die 69 "$hearth_tool is missing (systemd-container, openssh-client, iproute2, util-linux)"; done`,
        `ip link show dev ${shq(c.network.iface)} >/dev/null 2>&1 || hearth_die 68 ${shq(`host interface ${c.network.iface} for ${what} does not exist`)}`,
        // Only this script says when the tree is idle, never the caller's environment.
        "HEARTH_TREE_IDLE=0",
        `hearth_root=${shq(root)} hearth_unit=${shq(unit)}`,
        `hearth_lock ${shq(`nspawn-${m}`)}`,
        // The machine is this resource's (or an earlier release's, or adopted): refused before anything changes.
        `if [ -e ${shq(nspawn)} ] || [ -L ${shq(nspawn)} ]; then hearth_claim ${shq(what)} "$(hearth_file_owner ${shq(nspawn)} ${shq(legacyNspawnHeader(m))})"; fi`,
        `if [ -e ${shq(dropIn)} ] || [ -L ${shq(dropIn)} ]; then hearth_claim ${shq(what)} "$(hearth_file_owner ${shq(dropIn)} ${shq(legacyDropInHeader(m))})"; fi`,
    );
    retireRenamed(s, m);
    for (const f of files) s.install(f);
    // A file inside the tree that no longer holds what hearth put there (a hand edit, a link in its place) brings the
    // tree up to date again, like a changed setting.
    const innerHeld = inner.map((f) => `  hearth_below_holds . ${shq(f.rel)} ${mode8(f.mode)} ${shq(stagedPath(m, f.rel))} || hearth_apply=1`);
    s.raw(`hearth_dir ${shq(MACHINES_DIR)} 0700`);
    if (c.rootfs.kind === "copy") {
        const from = c.rootfs.from;
        const tmp = `${MACHINES_DIR}/.hearth-new-${m}`;
        s.raw(
            `if [ ! -e "$hearth_root" ] && [ ! -L "$hearth_root" ]; then`,
            `  [ -d ${shq(`${from}/usr`)} ] || hearth_die 66 ${shq(`base tree ${from} has no /usr`)}`,
            `  if [ -e ${shq(tmp)} ] || [ -L ${shq(tmp)} ]; then rm -rf --one-file-system -- ${shq(tmp)}; hearth_step; fi`,
            `  cp -a --reflink=auto -- ${shq(from)} ${shq(tmp)}`,
            "  hearth_step",
            `  mv -T -- ${shq(tmp)} "$hearth_root"`,
            "  hearth_step",
            `  hearth_say ${shq(`copied ${from} to ${root}`)}`,
            "fi",
        );
    }
    s.raw(
        `if [ ! -d "$hearth_root" ] || [ -L "$hearth_root" ]; then hearth_die 66 ${shq(`${root} is not a directory: the rootfs is missing`)}; fi`,
        // The identity token: the tree carries "<machine> <token>" in etc/.hearth-container once its identity is made.
        `hearth_token=$(hearth_applied ${shq(identityKey(m))})`,
        `if [ -z "$hearth_token" ]; then hearth_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \\n'); hearth_record ${shq(identityKey(m))} "$hearth_token"; fi`,
        `hearth_want=$(hearth_digest ${files.map((f) => shq(f.path)).join(" ")})`,
        // The tree's owner cannot search /var/lib/machines (0700): root enters the tree's root directory (a real
        // directory in a root-only one, checked above) and the *_below primitives work on "." from there, as the owner.
        `cd -P -- "$hearth_root"`,
        "hearth_apply=0",
        `if [ "$(hearth_applied ${shq(appliedKey(m))})" != "$hearth_want" ] || [ -z "$(hearth_applied ${shq(hostKeyKey(m))})" ]; then`,
        "  hearth_apply=1",
        `elif hearth_unit_idle "$hearth_unit"; then`,
        "  HEARTH_TREE_IDLE=1",
        `  hearth_mark=$(hearth_read_below . etc/.hearth-container) || hearth_mark=`,
        `  [ "$hearth_mark" = ${shq(m)}" $hearth_token" ] || hearth_apply=1`,
        ...innerHeld,
        "  HEARTH_TREE_IDLE=0",
        `elif [ "$(stat -c %u -- "$hearth_root")" != 0 ]; then`,
        // Running, so only a tree its owner (not root) owns is read now; a root-owned one is trusted to the record.
        `  hearth_mark=$(hearth_read_below . etc/.hearth-container) || hearth_mark=`,
        `  [ "$hearth_mark" = ${shq(m)}" $hearth_token" ] || hearth_apply=1`,
        ...innerHeld,
        "fi",
        `if [ "$hearth_apply" = 1 ]; then`,
        `  if ! hearth_unit_idle "$hearth_unit"; then systemctl stop "$hearth_unit"; hearth_step; fi`,
        `  hearth_unit_idle "$hearth_unit" || hearth_die 75 ${shq(`container ${m} did not stop`)}`,
        // Stopped: nothing runs in the tree, so a root-owned one may be touched now (still as its owner, never via a link).
        "  HEARTH_TREE_IDLE=1",
        `  hearth_run_below . test -d usr || hearth_die 66 ${shq(`${root} is not an OS tree (no /usr)`)}`,
        `  hearth_mark=$(hearth_read_below . etc/.hearth-container) || hearth_mark=`,
        // An earlier release's mark was the machine name alone: its identity is kept.
        `  if [ "$hearth_mark" != ${shq(m)}" $hearth_token" ] && [ "$hearth_mark" != ${shq(m)} ]; then`,
        // systemd derives the machine id from the container's UUID when etc/machine-id is empty.
        `    hearth_put_below . etc/machine-id 0444 </dev/null`,
        `    hearth_run_below . bash --noprofile --norc -c 'rm -f -- etc/ssh/ssh_host_*'`,
        "    hearth_step",
        // Keys are made by root in a root-only scratch directory, then put into the tree as its owner.
        "    hearth_private_tmpdir",
        "    hearth_keys=$hearth_tmp",
        `    mkdir -p -- "$hearth_keys/etc/ssh"`,
        `    ssh-keygen -q -A -f "$hearth_keys"`,
        `    for hearth_k in "$hearth_keys"/etc/ssh/ssh_host_*; do`,
        `      case $hearth_k in *.pub) hearth_kmode=0644 ;; *) hearth_kmode=0600 ;; esac`,
        `      hearth_put_below . "etc/ssh/\${hearth_k##*/}" "$hearth_kmode" <"$hearth_k"`,
        "    done",
        "  fi",
    );
    for (const f of inner) {
        const dirMode = f.rel.startsWith("root/.ssh/") ? "0700" : "0755";
        s.raw(`  hearth_put_below . ${shq(f.rel)} ${mode8(f.mode)} ${dirMode} <${shq(stagedPath(m, f.rel))}`);
    }
    s.raw(
        `  hearth_put_below . etc/.hearth-container 0644 <<<${shq(m)}" $hearth_token"`,
        `  hearth_hostkey=$(hearth_read_below . etc/ssh/ssh_host_ed25519_key.pub) || hearth_hostkey=`,
        `  if ! [[ $hearth_hostkey =~ ^(ssh-ed25519\\ [A-Za-z0-9+/]+=*)(\\ .*)?$ ]]; then hearth_die 65 ${shq(`${root}/etc/ssh/ssh_host_ed25519_key.pub is not an ed25519 public key`)}; fi`,
        `  hearth_record ${shq(hostKeyKey(m))} "\${BASH_REMATCH[1]}"`,
        "  HEARTH_TREE_IDLE=0",
        "fi",
        "cd /",
        // A new drop-in directory is found only by a reload, and NeedDaemonReload does not say so (--dropin). Enabling
        // needs no reload of its own: the unit is started explicitly below, and the links count from the next boot.
        `hearth_daemon_reload --dropin ${shq(dropInPath(m))} "$hearth_unit"`,
        `if ! systemctl is-enabled --quiet "$hearth_unit"; then systemctl enable --quiet --no-reload "$hearth_unit"; hearth_step; fi`,
        "if ! systemctl is-enabled --quiet machines.target; then systemctl enable --quiet --no-reload machines.target; hearth_step; fi",
        `if ! systemctl is-active --quiet "$hearth_unit"; then`,
        "  hearth_t0=$(date +%s%N)",
        `  systemctl start "$hearth_unit" || { hearth_warn ${shq(`${what} failed to start`)}; journalctl -u "$hearth_unit" -n 40 --no-pager >&2 || true; exit 75; }`,
        "  hearth_step",
        // Until the container's bus answers, systemctl -M prints nothing; then --wait blocks until boot has finished.
        "  hearth_state=",
        "  for _ in $(seq 1800); do",
        `    hearth_state=$(timeout 90 systemctl -M ${shq(m)} is-system-running --wait 2>/dev/null || true)`,
        `    [ -n "$hearth_state" ] && break`,
        "    sleep 0.05",
        "  done",
        "  hearth_ms=$(( ($(date +%s%N) - hearth_t0) / 1000000 ))",
        "  case $hearth_state in",
        `    running) hearth_say ${shq(what)}" running $hearth_ms ms after systemctl start" ;;`,
        `    degraded) hearth_warn ${shq(what)}" up but degraded $hearth_ms ms after start: $(systemctl -M ${shq(m)} --failed --no-legend --plain 2>/dev/null | cut -d' ' -f1 | tr '\\n' ' ')" ;;`,
        `    *) hearth_warn ${shq(what)}" did not reach running (state: $hearth_state)"; journalctl -u "$hearth_unit" -n 30 --no-pager >&2 || true; exit 75 ;;`,
        "  esac",
        "fi",
        // Recorded only now that the container runs with it: a run killed before this line restarts it next time.
        `if [ "$hearth_apply" = 1 ]; then hearth_record ${shq(appliedKey(m))} "$hearth_want"; fi`,
    );
    recordMachine(s, m);
    s.raw(NSPAWN_HOST_KEY.emit(`"$(hearth_applied ${shq(hostKeyKey(m))})"`));
    return { script: s.render(), files: s.installedFiles as RenderedFile[] };
}

/**
 * The container's own checks, from the model its converge applies: its unit enabled and running, then inside its tree,
 * read as the tree's owner, each file hearth puts there (content and mode) and the identity the converge made and
 * recorded (its mark, its SSH host key). The .nspawn file, the drop-in and the staged copies are files the converge
 * installs, checked without these lines.
 */
export function renderCheck(c: ContainerSpec): string[] {
    const inner = innerFiles(c).flatMap((f) => [f.rel, createHash("sha256").update(f.content, "utf8").digest("hex"), mode8(f.mode)]);
    return [
        ["hearth_check_nspawn_unit", c.machine].map(shq).join(" "),
        ["hearth_check_nspawn_files", c.machine, ...inner].map(shq).join(" "),
        // The machine's own host key, for the checks of what runs inside it (`npm run check` pins it for that session).
        ...c.addresses.map((a) => ["hearth_check_hostkey", a.split("/")[0], hostKeyKey(c.machine)].map(shq).join(" ")),
    ];
}

/**
 * Removes the container when its .nspawn file carries this resource's mark (or an alias's, or an earlier release's):
 * stops and disables it, removes the staged files, the applied state and the drop-in, the copied rootfs only with
 * `destroyOnDelete`, and the .nspawn file last (so a run killed anywhere still knows the machine is its own). A
 * machine marked by another resource is left alone, and the script says so. A ZFS clone is its dataset's to remove.
 */
export function renderDelete(c: ContainerSpec, mark: OwnerMark): string {
    const m = c.machine;
    const root = `${MACHINES_DIR}/${m}`;
    const nspawn = nspawnPath(m);
    const dropIn = dropInPath(m);
    const what = `container ${m}`;
    const s = new Script(`remove ${what}`).owner(mark);
    s.raw(
        `hearth_unit=${shq(`systemd-nspawn@${m}.service`)}`,
        `hearth_lock ${shq(`nspawn-${m}`)}`,
        `if [ ! -e ${shq(nspawn)} ] && [ ! -L ${shq(nspawn)} ]; then hearth_say ${shq(`${what}: ${nspawn} is gone; nothing of it to remove`)}; exit 0; fi`,
        `hearth_found=$(hearth_file_owner ${shq(nspawn)} ${shq(legacyNspawnHeader(m))})`,
        `if ! hearth_mine "$hearth_found"; then hearth_say ${shq(`${what} is not this resource's (${mark.id}): its ${nspawn} is marked`)}" '\${hearth_found:-by no hearth resource}'; leaving it alone"; exit 0; fi`,
        "hearth_template=0",
        "if systemctl list-unit-files --quiet systemd-nspawn@.service >/dev/null 2>&1; then hearth_template=1; fi",
        `if [ "$hearth_template" = 1 ]; then`,
        `  if systemctl is-enabled --quiet "$hearth_unit" 2>/dev/null; then systemctl disable --quiet --no-reload "$hearth_unit"; hearth_step; fi`,
        `  if ! hearth_unit_idle "$hearth_unit"; then systemctl stop "$hearth_unit"; hearth_step; fi`,
        `  hearth_unit_idle "$hearth_unit" || hearth_die 75 ${shq(`container ${m} did not stop`)}`,
        "fi",
    );
    for (const f of innerFiles(c)) s.raw(`hearth_remove ${shq(stagedPath(m, f.rel))}`);
    s.raw(
        `hearth_rmdir ${shq(`${STAGE_DIR}/${m}`)}`,
        `hearth_forget ${shq(appliedKey(m))}`,
        `hearth_forget ${shq(identityKey(m))}`,
        `hearth_forget ${shq(hostKeyKey(m))}`,
        `hearth_by=${machineKey("hearth_owner")}`,
        `if [ "$(hearth_applied "$hearth_by")" = ${shq(m)} ]; then hearth_forget "$hearth_by"; fi`,
    );
    if (c.rootfs.kind === "copy" && c.destroyOnDelete) {
        // Stopped above: nothing runs in the tree; rm never follows a link out of it, nor crosses into another filesystem.
        s.raw(`if [ -e ${shq(root)} ] || [ -L ${shq(root)} ]; then rm -rf --one-file-system -- ${shq(root)}; hearth_step; hearth_say ${shq(`removed ${root} (destroyOnDelete)`)}; fi`);
    } else if (c.rootfs.kind === "copy") {
        s.raw(`if [ -e ${shq(root)} ]; then hearth_say ${shq(`kept ${root} (set destroyOnDelete to remove a copied rootfs with its container)`)}; fi`);
    }
    s.raw(
        `hearth_remove ${shq(dropIn)}`,
        `hearth_rmdir ${shq(dropIn.slice(0, dropIn.lastIndexOf("/")))}`,
        `if [ "$hearth_template" = 1 ]; then hearth_daemon_reload "$hearth_unit"; fi`,
        `hearth_remove ${shq(nspawn)}`,
    );
    return s.render();
}

/** Parses the measured start time, when the script started the container. */
export function parseStartMs(stdout: string): number | undefined {
    const m = /^hearth: container \S+ running (\d+) ms after systemctl start$/m.exec(stdout);
    return m ? Number(m[1]) : undefined;
}

/**
 * A renamed machine within one resource: the machine this resource last ran (recorded on the host, under a digest of
 * its mark or an alias's) is stopped, disabled and its settings, staged files and recorded state removed, before the
 * new one starts (they would hold the same addresses). Its tree stays: data is never removed by a rename. Only the
 * recorded machine is retired, never another .nspawn file that merely carries the same owner line.
 */
function retireRenamed(s: Script, m: string): void {
    s.raw(
        `hearth_new=${shq(m)}`,
        'for hearth_id in "$hearth_owner" "${hearth_aliases[@]}"; do',
        '  [ -n "$hearth_id" ] || continue',
        `  hearth_old=$(hearth_applied ${machineKey("hearth_id")})`,
        '  if [ -z "$hearth_old" ] || [ "$hearth_old" = "$hearth_new" ]; then continue; fi',
        '  case $hearth_old in *[!a-z0-9-]*) continue ;; esac',
        `  hearth_f=${shq(NSPAWN_DIR)}/"$hearth_old.nspawn"`,
        '  if [ -e "$hearth_f" ] && ! hearth_mine "$(hearth_file_owner "$hearth_f")"; then continue; fi',
        '  hearth_say "retiring container $hearth_old (the machine of this resource is now $hearth_new); its tree is kept"',
        '  hearth_old_unit="systemd-nspawn@$hearth_old.service"',
        '  if systemctl is-enabled --quiet "$hearth_old_unit" 2>/dev/null; then systemctl disable --quiet --no-reload "$hearth_old_unit"; hearth_step; fi',
        '  if ! hearth_unit_idle "$hearth_old_unit"; then systemctl stop "$hearth_old_unit"; hearth_step; fi',
        '  hearth_unit_idle "$hearth_old_unit" || hearth_die 75 "container $hearth_old did not stop"',
        `  for hearth_s in ${shq(STAGE_DIR)}/"$hearth_old"/*; do if [ -f "$hearth_s" ] || [ -L "$hearth_s" ]; then hearth_remove "$hearth_s"; fi; done`,
        `  hearth_rmdir ${shq(STAGE_DIR)}/"$hearth_old"`,
        '  hearth_forget "nspawn/$hearth_old"',
        '  hearth_forget "nspawn-identity/$hearth_old"',
        '  hearth_forget "nspawn-hostkey/$hearth_old"',
        '  hearth_remove "/etc/systemd/system/systemd-nspawn@$hearth_old.service.d/50-hearth.conf"',
        '  hearth_rmdir "/etc/systemd/system/systemd-nspawn@$hearth_old.service.d"',
        '  hearth_daemon_reload "$hearth_old_unit"',
        '  hearth_remove "$hearth_f"',
        "done",
    );
}

/** The state key (a shell word) under which the machine of the owner mark in shell variable `variable` is recorded. */
function machineKey(variable: "hearth_owner" | "hearth_id"): string {
    return `"nspawn-by/$(printf %s "$${variable}" | sha256sum | cut -c1-32)"`;
}

/** Records, under a digest of this resource's mark, the machine it runs (what a later rename retires). */
function recordMachine(s: Script, m: string): void {
    s.raw(`hearth_record ${machineKey("hearth_owner")} ${shq(m)}`);
}
