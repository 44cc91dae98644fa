// NspawnContainer renderer: the .nspawn file, the unit drop-in, the files put inside the rootfs, converge and delete scripts. Pure.
import { RenderedFile, Script, shq } from "../shell";

export const MACHINES_DIR = "/var/lib/machines";
export const NSPAWN_DIR = "/etc/systemd/nspawn";
/** Host-side copies of what goes inside the rootfs: the script compares and copies them in with the container's owner. */
export const STAGE_DIR = "/var/lib/hearth/nspawn";

export interface ContainerSpec {
    readonly machine: string;
    readonly hostname: string;
    readonly rootfs: { readonly kind: "zfs"; readonly dataset: string } | { readonly kind: "copy"; readonly from: string } | { readonly kind: "existing" };
    readonly network: { readonly kind: "bridge" | "macvlan"; readonly iface: string };
    readonly addresses: readonly string[];
    readonly gateways: readonly string[];
    readonly binds: ReadonlyArray<{ readonly source: string; readonly target: string; readonly readWrite: boolean }>;
    readonly capabilities: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
    readonly memoryMaxMiB: number;
    readonly cpuQuotaPercent?: number;
    readonly tasksMax: number;
    readonly ephemeral: boolean;
    readonly ownership: "auto" | "chown" | "map";
    readonly authorizedKey: string;
    readonly keepData: boolean;
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

/** The .nspawn settings: booted, private users, private network, read-only binds unless asked, added capabilities with reasons. */
export function renderNspawnFile(c: ContainerSpec): string {
    const exec: Section["lines"][number][] = [["Boot", "yes"], ["Hostname", c.hostname], ["PrivateUsers", "pick"]];
    for (const cap of c.capabilities) exec.push(cap.reason, ["Capability", cap.name]);
    if (c.ephemeral) exec.push(["Ephemeral", "yes"]);
    const files: Section["lines"][number][] = [["PrivateUsersOwnership", c.ownership]];
    for (const b of c.binds) files.push([b.readWrite ? "Bind" : "BindReadOnly", b.source === b.target ? b.source : `${b.source}:${b.target}`]);
    const network: Section["lines"][number][] = c.network.kind === "bridge"
        ? [["Private", "yes"], ["VirtualEthernet", "yes"], ["Bridge", c.network.iface]]
        : [["Private", "yes"], ["VirtualEthernet", "no"], ["MACVLAN", c.network.iface]];
    return ini([`hearth: container ${c.machine}. Managed by hearth: edits are overwritten.`], [
        { name: "Exec", lines: exec },
        { name: "Files", lines: files },
        { name: "Network", lines: network },
    ]);
}

/** Resource limits on systemd-nspawn@<machine>.service. */
export function renderDropIn(c: ContainerSpec): string {
    const lines: Array<readonly [string, string]> = [["MemoryMax", `${c.memoryMaxMiB}M`], ["TasksMax", String(c.tasksMax)]];
    if (c.cpuQuotaPercent !== undefined) lines.push(["CPUQuota", `${c.cpuQuotaPercent}%`]);
    return ini([`hearth: resource limits of container ${c.machine}.`], [{ name: "Service", lines }]);
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

/** The rendered files: .nspawn, drop-in, then the staged inner files, in the order the script reads them. */
export function renderFiles(c: ContainerSpec): RenderedFile[] {
    return [
        { path: nspawnPath(c.machine), content: renderNspawnFile(c), mode: 0o644 },
        { path: dropInPath(c.machine), content: renderDropIn(c), mode: 0o644 },
        ...innerFiles(c).map((f) => ({ path: `${STAGE_DIR}/${c.machine}/${f.rel.replace(/\//g, "_")}`, content: f.content, mode: 0o600 })),
    ];
}

/**
 * Converges the container: rootfs present, settings and limits installed, identity made once per clone (empty
 * machine-id, fresh SSH host keys), inner files copied in with the container root's owner while it is stopped,
 * enabled, (re)started only on change, and waited for until its systemd reports running. Prints its SSH host key.
 */
export function renderConverge(c: ContainerSpec): { script: string; files: RenderedFile[] } {
    const m = c.machine;
    const root = `${MACHINES_DIR}/${m}`;
    const unit = `systemd-nspawn@${m}.service`;
    const s = new Script(`container ${m}`);
    s.raw(`for hearth_tool in systemd-nspawn systemctl ssh-keygen ip; do command -v "$hearth_tool" >/dev/null || { echo "hearth: $hearth_tool is missing (systemd-container, openssh-client, iproute2)" >&2; exit 69; }; done`);
    s.raw(`ip link show dev ${shq(c.network.iface)} >/dev/null 2>&1 || { echo "hearth: host interface ${c.network.iface} for container ${m} does not exist" >&2; exit 68; }`);
    s.raw(`hearth_root=${shq(root)} hearth_unit=${shq(unit)}`);
    if (c.rootfs.kind === "copy") {
        s.raw(String.raw`if [ ! -e "$hearth_root" ]; then
  [ -d ${shq(c.rootfs.from)}/usr ] || { echo "hearth: base tree ${c.rootfs.from} has no /usr" >&2; exit 66; }
  rm -rf -- "$hearth_root.hearth-new"
  cp -a --reflink=auto -- ${shq(c.rootfs.from)} "$hearth_root.hearth-new"
  rm -f -- "$hearth_root.hearth-new/etc/.hearth-container"
  mv -T -- "$hearth_root.hearth-new" "$hearth_root"
  echo "hearth: copied ${c.rootfs.from} to $hearth_root"
fi`);
    }
    s.raw(`[ -d "$hearth_root/usr" ] && [ ! -L "$hearth_root" ] || { echo "hearth: $hearth_root is not an OS tree (no /usr)" >&2; exit 66; }`);
    for (const f of renderFiles(c)) s.install(f);
    s.raw(String.raw`hearth_owner=$(stat -c %u:%g -- "$hearth_root")
hearth_identity=0
[ "$(cat -- "$hearth_root/etc/.hearth-container" 2>/dev/null || true)" = ${shq(m)} ] || hearth_identity=1
# Never follow a link the container could have planted: every component below the rootfs must be real.
hearth_safe() {
  local rel=$1 p=$hearth_root part
  local IFS=/
  for part in $rel; do p=$p/$part; if [ -L "$p" ]; then echo "hearth: refusing to write through symlink $p" >&2; exit 65; fi; done
}
hearth_inner=0
hearth_differs() { # staged, rel, mode
  [ -f "$hearth_root/$2" ] && cmp -s -- "$1" "$hearth_root/$2" && [ "$(stat -c '%a %u:%g' -- "$hearth_root/$2")" = "$3 $hearth_owner" ] && return 1
  return 0
}`);
    const inner = innerFiles(c).map((f) => ({ ...f, staged: `${STAGE_DIR}/${m}/${f.rel.replace(/\//g, "_")}`, mode8: f.mode.toString(8) }));
    for (const f of inner) s.raw(`hearth_safe ${shq(f.rel)}; if hearth_differs ${shq(f.staged)} ${shq(f.rel)} ${f.mode8}; then hearth_inner=1; fi`);
    s.raw(String.raw`if [ "$hearth_changed" != 0 ] || [ "$hearth_inner" != 0 ] || [ "$hearth_identity" != 0 ]; then
  if systemctl is-active --quiet "$hearth_unit"; then systemctl stop "$hearth_unit"; fi
  systemctl daemon-reload
fi
if [ "$hearth_identity" != 0 ]; then
  hearth_safe etc/ssh; hearth_safe etc/machine-id
  : > "$hearth_root/etc/machine-id"
  rm -f -- "$hearth_root"/etc/ssh/ssh_host_*
  ssh-keygen -q -A -f "$hearth_root"
  chown -- "$hearth_owner" "$hearth_root/etc/machine-id" "$hearth_root"/etc/ssh/ssh_host_*
fi`);
    for (const f of inner) {
        const dir = f.rel.includes("/") ? f.rel.slice(0, f.rel.lastIndexOf("/")) : "";
        const dirMode = f.rel.startsWith("root/.ssh/") ? "0700" : "0755";
        s.raw(`if hearth_differs ${shq(f.staged)} ${shq(f.rel)} ${f.mode8}; then hearth_safe ${shq(f.rel)}; install -d -m ${dirMode} -o "\${hearth_owner%:*}" -g "\${hearth_owner#*:}" -- "$hearth_root"/${shq(dir)}; install -m ${f.mode8} -o "\${hearth_owner%:*}" -g "\${hearth_owner#*:}" -- ${shq(f.staged)} "$hearth_root"/${shq(f.rel)}; echo "hearth: wrote $hearth_root/${f.rel}"; fi`);
    }
    s.raw(String.raw`if [ "$hearth_identity" != 0 ]; then printf '%s\n' ${shq(m)} > "$hearth_root/etc/.hearth-container"; chown -- "$hearth_owner" "$hearth_root/etc/.hearth-container"; fi
systemctl is-enabled --quiet "$hearth_unit" || systemctl enable --quiet "$hearth_unit"
systemctl is-enabled --quiet machines.target || systemctl enable --quiet machines.target
if ! systemctl is-active --quiet "$hearth_unit"; then
  hearth_t0=$(date +%s%N)
  systemctl start "$hearth_unit" || { echo "hearth: container ${m} failed to start" >&2; journalctl -u "$hearth_unit" -n 40 --no-pager >&2 || true; exit 75; }
  # Until the container's bus answers, systemctl -M prints nothing; then --wait blocks until boot has finished.
  hearth_state=
  for _ in $(seq 1800); do
    hearth_state=$(timeout 90 systemctl -M ${shq(m)} is-system-running --wait 2>/dev/null || true)
    [ -n "$hearth_state" ] && break
    sleep 0.05
  done
  hearth_ms=$(( ($(date +%s%N) - hearth_t0) / 1000000 ))
  case $hearth_state in
    running) echo "hearth: container ${m} running $hearth_ms ms after systemctl start" ;;
    degraded) echo "hearth: container ${m} up but degraded $hearth_ms ms after start: $(systemctl -M ${shq(m)} --failed --no-legend --plain 2>/dev/null | cut -d' ' -f1 | tr '\n' ' ')" >&2 ;;
    *) echo "hearth: container ${m} did not reach running (state: $hearth_state)" >&2; journalctl -u "$hearth_unit" -n 30 --no-pager >&2 || true; exit 75 ;;
  esac
fi
echo "hearth-nspawn-hostkey: $(cut -d' ' -f1,2 -- "$hearth_root/etc/ssh/ssh_host_ed25519_key.pub")"`);
    return { script: s.render(), files: s.installedFiles as RenderedFile[] };
}

/** Stops and disables the container, removes its settings, and its copied rootfs unless `keepData` (a ZFS clone is the dataset's to remove). */
export function renderDelete(c: ContainerSpec): string {
    const m = c.machine;
    const s = new Script(`remove container ${m}`);
    s.raw(`hearth_unit=${shq(`systemd-nspawn@${m}.service`)}`);
    s.raw(String.raw`if systemctl list-unit-files --quiet systemd-nspawn@.service >/dev/null 2>&1; then
  systemctl disable --now --quiet "$hearth_unit" 2>/dev/null || true
fi`);
    for (const f of renderFiles(c)) s.raw(`hearth_remove ${shq(f.path)}`);
    s.raw(`rmdir -- ${shq(`/etc/systemd/system/systemd-nspawn@${m}.service.d`)} ${shq(`${STAGE_DIR}/${m}`)} 2>/dev/null || true`);
    s.raw(`if [ "$hearth_changed" != 0 ]; then systemctl daemon-reload; fi`);
    if (c.rootfs.kind === "copy" && !c.keepData) s.raw(`if [ -d ${shq(`${MACHINES_DIR}/${m}`)} ]; then rm -rf --one-file-system -- ${shq(`${MACHINES_DIR}/${m}`)}; echo "hearth: removed ${MACHINES_DIR}/${m}"; fi`);
    return s.render();
}

/** Parses the converge script's stdout for the container's SSH host key (`ssh-ed25519 AAAA…`). */
export function parseHostKey(stdout: string): string | undefined {
    return /^hearth-nspawn-hostkey: (ssh-ed25519 [A-Za-z0-9+/]+={0,2})$/m.exec(stdout)?.[1];
}

/** Parses the measured start time, when the script started the container. */
export function parseStartMs(stdout: string): number | undefined {
    const m = /^hearth: container \S+ running (\d+) ms after systemctl start$/m.exec(stdout);
    return m ? Number(m[1]) : undefined;
}
