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
import { PROTECTED_UNIT_ERE } from "./protected";

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
    /** The read-only drift check lines: each package installed (at its pin) and held as declared, its masks still set. */
    readonly check: readonly string[];
    readonly hash: string;
}

/** Where this component's applied state lives under /var/lib/hearth/applied (the runtime's hearth_apt_* keys). */
export const STATE = { mask: "apt/mask", runtime: "apt/runtime-mask", hold: "apt/hold" } as const;

/** apt and dpkg wait this long for dpkg's lock (another apt run, unattended-upgrades) before failing. */
const APT_LOCK = "apt_lock=(-o DPkg::Lock::Timeout=300)";

/** What the converge and delete scripts both start with: one apt run at a time, apt never asks. */
function prelude(s: Script): void {
    // One apt run at a time on a host (hearth's scripts; apt's own lock waits for anybody else's).
    s.raw("hearth_lock apt", "export DEBIAN_FRONTEND=noninteractive");
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
        `hearth_apt_keep=(${spec.keepUnits.map(shq).join(" ")})`,
        // Units hearth or the host cannot live without: never masked, whichever package ships them (protected.ts).
        `hearth_apt_protect=${shq(PROTECTED_UNIT_ERE)}`,
        // Recorded before anything acts: which packages this resource declares (a delete of the resource they moved
        // from leaves them, and their holds, alone).
        'hearth_apt_declare "${apt_names[@]}"',
        // dpkg's own interrupted work first (a killed install): apt refuses to run until it is done.
        'if [ -n "$(dpkg --audit 2>/dev/null)" ]; then dpkg --configure -a; hearth_step; fi',
        // What is missing: a package not installed, or installed at a version other than its pin.
        "apt_todo_names=()",
        "apt_todo_versions=()",
        'for i in "${!apt_names[@]}"; do',
        '  n=${apt_names[$i]}; v=${apt_versions[$i]}',
        '  have=$(hearth_apt_installed "$n")',
        '  if [ -z "$have" ] || { [ "$v" != - ] && [ "$have" != "$v" ]; }; then apt_todo_names+=("$n"); apt_todo_versions+=("$v"); fi',
        "done",
        'if [ "${#apt_todo_names[@]}" -gt 0 ]; then',
        // Each package as name=version, its name exactly (apt reads a name no package has as a pattern); apt-get
        // update only when apt cannot find one (no lists, a new package, a new version).
        "  apt_todo=()",
        '  for pass in 1 2; do',
        "    apt_todo=()",
        "    apt_unknown=()",
        '    for i in "${!apt_todo_names[@]}"; do',
        '      n=${apt_todo_names[$i]}; v=${apt_todo_versions[$i]}',
        '      if [ "$v" = - ]; then v=$(hearth_apt_candidate "$n"); elif ! hearth_apt_has_version "$n" "$v"; then v=; fi',
        '      if [ -n "$v" ]; then apt_todo+=("$n=$v"); else apt_unknown+=("${apt_todo_names[$i]}"); fi',
        "    done",
        '    if [ "${#apt_unknown[@]}" = 0 ]; then break; fi',
        '    if [ "$pass" = 2 ]; then hearth_die 66 "apt knows no package of exactly the name ${apt_unknown[*]} (at the version asked) in the host\'s sources (after apt-get update)"; fi',
        '    apt-get -q "${apt_lock[@]}" update >/dev/null',
        "    hearth_step",
        "  done",
        // Nothing removed, and no held package changed but the declared ones: apt's simulation says before anything runs.
        '  hearth_apt_check_install "${apt_names[@]}" -- "${apt_todo[@]}"',
        '  apt_opts=(-y -q --no-install-recommends --no-remove --allow-downgrades --allow-change-held-packages -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${apt_lock[@]}")',
        '  apt-get "${apt_opts[@]}" install --download-only -- "${apt_todo[@]}" >/dev/null',
        "  hearth_step",
        // Each package about to be unpacked: its units, from its downloaded .deb, settled (masked, or kept and masked
        // for the install window, or left alone when in use) before dpkg runs its maintainer scripts.
        "  apt_tmp=",
        '  for w in "${apt_todo[@]}"; do',
        '    n=${w%%=*}; v=${w#*=}',
        '    deb=$(hearth_apt_find_deb /var/cache/apt/archives "$n" "$v")',
        // A file: or copy: source is used in place (nothing lands in the archives): fetched into a private directory.
        '    if [ -z "$deb" ]; then',
        '      if [ -z "$apt_tmp" ]; then hearth_private_tmpdir; apt_tmp=$hearth_tmp; fi',
        '      (cd "$apt_tmp" && apt-get -q -o APT::Sandbox::User=root download -- "$w" >/dev/null)',
        '      deb=$(hearth_apt_find_deb "$apt_tmp" "$n" "$v")',
        "    fi",
        '    if [ -z "$deb" ]; then hearth_die 70 "found no .deb of $n $v to read its units from"; fi',
        '    for u in $(hearth_apt_units_deb "$deb"); do hearth_apt_settle "$u" install; done',
        "  done",
        '  apt-get "${apt_opts[@]}" install -- "${apt_todo[@]}" >/dev/null',
        "  hearth_step",
        '  hearth_say "installed ${apt_todo[*]}"',
        "fi",
        // Every unit the declared packages ship, as installed, settled from the host's state (a unit dropped from
        // keepUnits is masked now, unless a SystemdService's unit file still replaces it or the host runs it).
        "apt_want_masked=()",
        "apt_pending=()",
        "apt_kept=()",
        'for n in "${apt_names[@]}"; do',
        '  if [ -z "$(hearth_apt_installed "$n")" ]; then hearth_die 70 "package $n is not installed after apt-get install"; fi',
        '  for u in $(hearth_apt_units_installed "$n"); do',
        '    hearth_apt_settle "$u" installed',
        '    case $hearth_apt_verdict in',
        '      masked) apt_want_masked+=("$u") ;;',
        '      pending) apt_pending+=("$u") ;;',
        '      kept) apt_kept+=("$u"); if hearth_apt_protected "$u" && ! hearth_apt_kept "$u" "${hearth_apt_keep[@]}"; then hearth_say "keep $u (hearth or the host relies on it: never masked)"; fi ;;',
        "    esac",
        "  done",
        "done",
        // Masks this resource set on units now kept: lifted. Its other masks no longer wanted (their package dropped,
        // or adopted): left, their records forgotten.
        'hearth_apt_unmask_others "${apt_want_masked[@]}" -- "${apt_kept[@]}"',
        'hearth_apt_drop_pending "${apt_pending[@]}"',
        "hearth_apt_lift_runtime",
        // Holds: set where asked (recorded first as this resource's), released where no longer asked.
        'for p in "${apt_holds[@]}"; do hearth_apt_hold "$p"; done',
        'hearth_apt_release_holds "${apt_holds[@]}"',
        // What the component reads back: each declared package's installed version, each unit masked for it.
        'for n in "${apt_names[@]}"; do hearth_say "package $n=$(hearth_apt_installed "$n")"; done',
        "hearth_apt_say_masks mask",
        'if [ "$hearth_steps" = 0 ]; then hearth_say "packages unchanged"; fi',
    );
    return s;
}

function deleteScript(spec: PackagesSpec, mark: OwnerMark): Script {
    const s = new Script(`apt packages ${spec.packages.map((p) => p.name).join(" ")} (delete)`).owner(mark);
    prelude(s);
    s.raw("hearth_apt_lift_runtime", "hearth_apt_release_holds");
    if (spec.removeOnDelete) {
        s.raw(
            APT_LOCK,
            `apt_names=(${spec.packages.map((p) => shq(p.name)).join(" ")})`,
            "apt_gone=()",
            'for n in "${apt_names[@]}"; do',
            // A package another resource declares now (it moved there in this update) stays.
            '  o=$(hearth_apt_declarer "$n")',
            '  if [ -n "$o" ]; then hearth_say "kept $n installed: $o declares it now"; continue; fi',
            "  if dpkg-query -W -f='${db:Status-Abbrev}' -- \"$n\" 2>/dev/null | grep -q '^.i'; then apt_gone+=(\"$n\"); fi",
            "done",
            'if [ "${#apt_gone[@]}" -gt 0 ]; then',
            // apt removes what depends on a removed package: refused before anything goes when that is not declared here.
            '  hearth_apt_check_remove "${apt_gone[@]}"',
            '  apt-get -y -q "${apt_lock[@]}" remove -- "${apt_gone[@]}" >/dev/null',
            "  hearth_step",
            '  hearth_say "removed ${apt_gone[*]} (removeOnDelete)"',
            "fi",
        );
    } else {
        s.raw(`hearth_say ${shq(`kept installed: ${spec.packages.map((p) => p.name).join(" ")} (set removeOnDelete to remove them)`)}`);
    }
    // Masks stay (a package's daemon must not start behind hearth's back because its resource went away); their
    // records go, so a later resource declaring the package adopts them, and an unmask is the admin's to make.
    s.raw("hearth_apt_forget_masks", "hearth_apt_forget_declared");
    return s;
}

/** The check lines of a DebianPackages resource (runtime hearth_check_apt_*), from the same spec as its converge. */
function packagesCheck(spec: PackagesSpec, mark: OwnerMark): string[] {
    const line = (...words: readonly string[]) => words.map(shq).join(" ");
    return [...spec.packages.map((p) => line("hearth_check_apt_package", p.name, p.version ?? "-", p.hold ? "1" : "0")), line("hearth_check_apt_masks", mark.id)];
}

export function renderPackages(spec: PackagesSpec, mark: OwnerMark): RenderedPackages {
    const script = convergeScript(spec, mark).render();
    const del = deleteScript(spec, mark).render();
    return { script, deleteScript: del, check: packagesCheck(spec, mark), hash: contentHash(script, del) };
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
