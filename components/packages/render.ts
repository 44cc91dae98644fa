// DebianPackages renderer: the resolved packages in, the converge and delete scripts out (pure, no Pulumi).
//
// The converge script decides everything from the host: dpkg's status (installed version), apt's lists (a declared
// package or version apt does not know is what makes it run `apt-get update`), the mask links in /etc/systemd/system
// and hearth's applied state (which masks, runtime masks and holds this resource set). A run killed at any step is
// finished by the next: a mask and a hold are recorded as this resource's before they are set, a runtime mask is
// recorded before it is set and lifted by every run, and dpkg's own interrupted work is finished with
// `dpkg --configure -a` before anything else.
import { OwnerMark } from "../core/owner";
import { Script, contentHash, shq } from "../shell";

/** One declared package as the script installs it. */
export interface PackageSpec {
    readonly name: string;
    /** The exact version (`name=version`); absent: any version, installed if missing, never upgraded. */
    readonly version?: string;
    readonly hold: boolean;
}

/** What the renderer takes: the props the component records, without the host. */
export interface PackagesSpec {
    readonly packages: readonly PackageSpec[];
    readonly keepUnits: readonly string[];
    /** The reason given to remove the packages on delete; absent: they stay. */
    readonly removeOnDelete?: { readonly reason: string };
}

export interface RenderedPackages {
    readonly script: string;
    readonly deleteScript: string;
    readonly hash: string;
}

/** Where this component's applied state lives under /var/lib/hearth/applied. */
export const STATE = { mask: "apt/mask", runtime: "apt/runtime-mask", hold: "apt/hold" } as const;

/** A unit file path in a package's file list (`dpkg-query -L`) or data archive (`dpkg-deb -c`, `./`-prefixed). */
const UNIT_PATH_ERE = "^[.]?/(usr/)?lib/systemd/system/[A-Za-z0-9_.:@-]+[.](service|socket|timer|path)$";

/** apt and dpkg wait this long for dpkg's lock (another apt run, unattended-upgrades) before failing. */
const APT_LOCK = "apt_lock=(-o DPkg::Lock::Timeout=300)";

/** The bash functions the converge and delete scripts share (over the runtime). */
function prelude(s: Script): void {
    s.raw(
        // One apt run at a time on a host (hearth's scripts; apt's own lock waits for anybody else's).
        "hearth_lock apt",
        "export DEBIAN_FRONTEND=noninteractive",
        // The mask link systemctl makes: /etc/systemd/system/<unit> -> /dev/null.
        'apt_masked() { [ -L "/etc/systemd/system/$1" ] && [ "$(readlink -- "/etc/systemd/system/$1")" = /dev/null ]; }',
        'apt_runtime_masked() { [ -L "/run/systemd/system/$1" ] && [ "$(readlink -- "/run/systemd/system/$1")" = /dev/null ]; }',
        // The state this resource recorded for KEY (a mask, a runtime mask, a hold): true when it names this resource.
        'apt_ours() { local v; v=$(hearth_applied "$1"); [ -n "$v" ] && hearth_mine "$v"; }',
        // Runtime masks this resource set for an install window: lifted by every run (a killed run left them).
        "apt_lift_runtime() {",
        "  local k u",
        `  for k in $(hearth_applied_keys ${STATE.runtime}); do`,
        '    u=${k##*/}',
        '    if ! apt_ours "$k"; then continue; fi',
        '    if apt_runtime_masked "$u"; then systemctl unmask --runtime -- "$u" >/dev/null 2>&1; hearth_step; fi',
        '    hearth_forget "$k"',
        "  done",
        "}",
        // Holds this resource set that are not among the arguments (with none, as on delete: all of them) are released.
        "# shellcheck disable=SC2120 # the delete passes no arguments: every hold of this resource goes",
        "apt_release_holds() {",
        "  local k p w keep",
        `  for k in $(hearth_applied_keys ${STATE.hold}); do`,
        '    p=${k##*/}',
        '    if ! apt_ours "$k"; then continue; fi',
        "    keep=0",
        '    for w in "$@"; do if [ "$w" = "$p" ]; then keep=1; fi; done',
        '    if [ "$keep" = 1 ]; then continue; fi',
        '    if apt-mark showhold -- "$p" 2>/dev/null | grep -qxF -- "$p"; then apt-mark unhold -- "$p" >/dev/null; hearth_step; hearth_say "released the hold on $p"; fi',
        '    hearth_forget "$k"',
        "  done",
        "}",
    );
}

function convergeScript(spec: PackagesSpec, mark: OwnerMark): Script {
    const s = new Script(`apt packages ${spec.packages.map((p) => p.name).join(" ")}`).owner(mark);
    prelude(s);
    const names = spec.packages.map((p) => p.name);
    s.raw(
        APT_LOCK,
        `apt_names=(${names.map(shq).join(" ")})`,
        `apt_versions=(${spec.packages.map((p) => shq(p.version ?? "-")).join(" ")})`,
        `apt_holds=(${spec.packages.filter((p) => p.hold).map((p) => shq(p.name)).join(" ")})`,
        `apt_keep=(${spec.keepUnits.map(shq).join(" ")})`,
        `apt_unit_re=${shq(UNIT_PATH_ERE)}`,
        "apt_kept() { local k; for k in \"${apt_keep[@]}\"; do if [ \"$k\" = \"$1\" ]; then return 0; fi; done; return 1; }",
        // The installed version of a package (held or not), empty when it is not fully installed.
        "apt_installed() { dpkg-query -W -f='${db:Status-Abbrev} ${Version}\\n' -- \"$1\" 2>/dev/null | awk '$1 ~ /^[a-z]i$/ { print $2 }' || true; }",
        // Masks a unit as this resource's: recorded first (so a kill right after the mask still knows it is ours).
        "apt_mask() {",
        '  local u=$1 k',
        `  k=${STATE.mask}/$u`,
        // Already masked: by this resource (recorded), or by someone else (left as found, never recorded as ours).
        '  if apt_masked "$u"; then return 0; fi',
        '  if [ -e "/etc/systemd/system/$u" ] || [ -L "/etc/systemd/system/$u" ]; then',
        '    hearth_die 65 "packaged unit $u has a unit of its own in /etc/systemd/system (a SystemdService declares it?): list it in keepUnits, or remove that unit"',
        "  fi",
        '  if [ -n "$(hearth_applied "$k")" ] && ! apt_ours "$k"; then hearth_die 65 "unit $u is masked by another resource ($(hearth_applied "$k")), not by $hearth_owner"; fi',
        '  hearth_record "$k" "$hearth_owner"',
        '  systemctl mask -- "$u" >/dev/null 2>&1',
        "  hearth_step",
        '  hearth_say "masked $u (shipped by a declared package; not in keepUnits)"',
        "}",
        // A kept unit of a package about to be unpacked: masked for the install window only.
        "apt_runtime_mask() {",
        '  local u=$1',
        '  if apt_runtime_masked "$u"; then return 0; fi',
        `  hearth_record "${STATE.runtime}/$u" "$hearth_owner"`,
        '  systemctl mask --runtime -- "$u" >/dev/null 2>&1',
        "  hearth_step",
        "}",
        // Unit names in a package's file list (installed) or in a downloaded .deb.
        "apt_units_installed() { dpkg-query -L -- \"$1\" 2>/dev/null | grep -E -- \"$apt_unit_re\" | sed 's|.*/||' | sort -u || true; }",
        "apt_units_deb() { dpkg-deb -c -- \"$1\" | awk '{ print $6 }' | grep -E -- \"$apt_unit_re\" | sed 's|.*/||' | sort -u || true; }",
        // dpkg's own interrupted work first (a killed install): apt refuses to run until it is done.
        'if [ -n "$(dpkg --audit 2>/dev/null)" ]; then dpkg --configure -a; hearth_step; fi',
        // What is missing: a package not installed, or installed at a version other than its pin.
        "apt_todo=()",
        "apt_todo_names=()",
        'for i in "${!apt_names[@]}"; do',
        '  n=${apt_names[$i]}; v=${apt_versions[$i]}',
        '  have=$(apt_installed "$n")',
        '  if [ -z "$have" ]; then',
        '    if [ "$v" = - ]; then apt_todo+=("$n"); else apt_todo+=("$n=$v"); fi',
        '    apt_todo_names+=("$n")',
        '  elif [ "$v" != - ] && [ "$have" != "$v" ]; then',
        '    apt_todo+=("$n=$v")',
        '    apt_todo_names+=("$n")',
        "  fi",
        "done",
        'if [ "${#apt_todo[@]}" -gt 0 ]; then',
        // apt-get update only when apt cannot find what is declared (no lists, a new package, a new version).
        "  apt_known=1",
        '  for w in "${apt_todo[@]}"; do if ! apt-cache show --no-all-versions -- "$w" >/dev/null 2>&1; then apt_known=0; fi; done',
        '  if [ "$apt_known" = 0 ]; then',
        '    apt-get -q "${apt_lock[@]}" update >/dev/null',
        "    hearth_step",
        '    for w in "${apt_todo[@]}"; do',
        '      if ! apt-cache show --no-all-versions -- "$w" >/dev/null 2>&1; then hearth_die 66 "apt knows no package $w in the host\'s sources (after apt-get update)"; fi',
        "    done",
        "  fi",
        '  apt_opts=(-y -q --no-install-recommends --allow-downgrades --allow-change-held-packages -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${apt_lock[@]}")',
        '  apt-get "${apt_opts[@]}" install --download-only -- "${apt_todo[@]}" >/dev/null',
        "  hearth_step",
        // Each package about to be unpacked: its units, from its downloaded .deb, masked (or, kept, runtime-masked)
        // before dpkg runs its maintainer scripts.
        "  apt_tmp=",
        '  for i in "${!apt_todo[@]}"; do',
        '    n=${apt_todo_names[$i]}; w=${apt_todo[$i]}',
        '    if [ "$w" != "$n" ]; then v=${w#*=}; else v=$(apt-cache policy -- "$n" | awk \'$1 == "Candidate:" { print $2 }\'); fi',
        '    deb=',
        '    for f in /var/cache/apt/archives/"$n"_*.deb; do',
        '      if [ -f "$f" ] && [ "$(dpkg-deb -f -- "$f" Package)" = "$n" ] && [ "$(dpkg-deb -f -- "$f" Version)" = "$v" ]; then deb=$f; fi',
        "    done",
        // A file: or copy: source is used in place (nothing lands in the archives): fetched into a private directory.
        '    if [ -z "$deb" ]; then',
        '      if [ -z "$apt_tmp" ]; then hearth_private_tmpdir; apt_tmp=$hearth_tmp; fi',
        '      (cd "$apt_tmp" && apt-get -q -o APT::Sandbox::User=root download -- "$n=$v" >/dev/null)',
        '      for f in "$apt_tmp"/"$n"_*.deb; do',
        '        if [ -f "$f" ] && [ "$(dpkg-deb -f -- "$f" Package)" = "$n" ] && [ "$(dpkg-deb -f -- "$f" Version)" = "$v" ]; then deb=$f; fi',
        "      done",
        "    fi",
        '    if [ -z "$deb" ]; then hearth_die 70 "found no .deb of $n $v to read its units from"; fi',
        '    for u in $(apt_units_deb "$deb"); do',
        '      if apt_kept "$u"; then apt_runtime_mask "$u"; else apt_mask "$u"; fi',
        "    done",
        "  done",
        '  apt-get "${apt_opts[@]}" install -- "${apt_todo[@]}" >/dev/null',
        "  hearth_step",
        '  hearth_say "installed ${apt_todo[*]}"',
        "fi",
        // Every unit the declared packages ship, as installed: masked unless kept (a unit dropped from keepUnits too).
        "apt_want_masked=()",
        'for n in "${apt_names[@]}"; do',
        '  if [ -z "$(apt_installed "$n")" ]; then hearth_die 70 "package $n is not installed after apt-get install"; fi',
        '  for u in $(apt_units_installed "$n"); do',
        '    if apt_kept "$u"; then continue; fi',
        '    apt_mask "$u"',
        '    apt_want_masked+=("$u")',
        "  done",
        "done",
        // Masks this resource set on units it no longer masks (now kept, or their package dropped): lifted.
        `for k in $(hearth_applied_keys ${STATE.mask}); do`,
        '  u=${k##*/}',
        '  if ! apt_ours "$k"; then continue; fi',
        "  want=0",
        '  for w in "${apt_want_masked[@]}"; do if [ "$w" = "$u" ]; then want=1; fi; done',
        '  if [ "$want" = 1 ]; then continue; fi',
        '  if apt_masked "$u"; then systemctl unmask -- "$u" >/dev/null 2>&1; hearth_step; hearth_say "unmasked $u"; fi',
        '  hearth_forget "$k"',
        "done",
        "apt_lift_runtime",
        // Holds: set where asked (recorded first as this resource's), released where no longer asked.
        'for p in "${apt_holds[@]}"; do',
        '  if apt-mark showhold -- "$p" 2>/dev/null | grep -qxF -- "$p"; then continue; fi',
        `  hearth_record "${STATE.hold}/$p" "$hearth_owner"`,
        '  apt-mark hold -- "$p" >/dev/null',
        "  hearth_step",
        '  hearth_say "held $p"',
        "done",
        'apt_release_holds "${apt_holds[@]}"',
        // What the component reads back: each declared package's installed version, each unit masked for it.
        'for n in "${apt_names[@]}"; do hearth_say "package $n=$(apt_installed "$n")"; done',
        `for k in $(hearth_applied_keys ${STATE.mask}); do if apt_ours "$k"; then hearth_say "mask \${k##*/}"; fi; done`,
        'if [ "$hearth_steps" = 0 ]; then hearth_say "packages unchanged"; fi',
    );
    return s;
}

function deleteScript(spec: PackagesSpec, mark: OwnerMark): Script {
    const s = new Script(`apt packages ${spec.packages.map((p) => p.name).join(" ")} (delete)`).owner(mark);
    prelude(s);
    s.raw("apt_lift_runtime", "apt_release_holds");
    if (spec.removeOnDelete) {
        s.raw(
            APT_LOCK,
            `apt_names=(${spec.packages.map((p) => shq(p.name)).join(" ")})`,
            "apt_gone=()",
            'for n in "${apt_names[@]}"; do',
            "  if dpkg-query -W -f='${db:Status-Abbrev}' -- \"$n\" 2>/dev/null | grep -q '^.i'; then apt_gone+=(\"$n\"); fi",
            "done",
            'if [ "${#apt_gone[@]}" -gt 0 ]; then',
            '  apt-get -y -q "${apt_lock[@]}" remove -- "${apt_gone[@]}" >/dev/null',
            "  hearth_step",
            '  hearth_say "removed ${apt_gone[*]} (removeOnDelete)"',
            "fi",
        );
    } else {
        s.raw(`hearth_say ${shq(`kept installed: ${spec.packages.map((p) => p.name).join(" ")} (set removeOnDelete to remove them)`)}`);
    }
    // Masks stay (a package's daemon must not start behind hearth's back because its resource went away).
    s.raw(`for k in $(hearth_applied_keys ${STATE.mask}); do if apt_ours "$k"; then hearth_say "left masked: \${k##*/} (systemctl unmask it to let the package's unit run)"; fi; done`);
    return s;
}

export function renderPackages(spec: PackagesSpec, mark: OwnerMark): RenderedPackages {
    const script = convergeScript(spec, mark).render();
    const del = deleteScript(spec, mark).render();
    return { script, deleteScript: del, hash: contentHash(script, del) };
}

/** Each declared package's installed version, from the converge script's `hearth: package <name>=<version>` lines. */
export function reportedPackages(stdout: string | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const m of (stdout ?? "").matchAll(/^hearth: package ([a-z0-9][a-z0-9+.-]+)=(\S*)$/gm)) out[m[1]] = m[2];
    return out;
}

/** The units this resource masks, from the converge script's `hearth: mask <unit>` lines, sorted. */
export function reportedMasks(stdout: string | undefined): string[] {
    return [...(stdout ?? "").matchAll(/^hearth: mask (\S+)$/gm)].map((m) => m[1]).sort();
}
