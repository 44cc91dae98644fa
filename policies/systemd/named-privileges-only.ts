// hearth-systemd-named-privileges-only: a rendered unit grants capabilities, writable paths, address families and syscalls only by naming them.
import { REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { words } from "./unitfile";
import { isReason } from "../lib/reason";
import { installedServices, LoadedUnit } from "./installed";

/** Directories too broad to count as a named writable path: granting one is granting most of the system. */
const BROAD_PATHS = new Set(["/", "/etc", "/usr", "/var", "/home", "/root", "/boot", "/opt", "/srv", "/run", "/dev", "/proc", "/sys", "/var/lib"]);

/** Loosenings SystemdService explains in the unit itself: `# hearth loosening '<name>': <reason>`. */
export function explainedLoosenings(texts: readonly (string | undefined)[]): Set<string> {
    const out = new Set<string>();
    for (const t of texts) {
        for (const m of (t ?? "").matchAll(/^#\s*hearth loosening '([A-Za-z]+)':\s*(.+)$/gm)) if (isReason(m[2].trim())) out.add(m[1]);
    }
    return out;
}

/** What a unit grants without naming it; one message per kind. */
export function unnamedGrants(u: LoadedUnit): string[] {
    const out: string[] = [];
    const { info, assignments } = u;
    const named = new Set(
        assignments
            .filter((a) => a.section === "Service" && a.key === "CapabilityBoundingSet" && !a.value.startsWith("~"))
            .flatMap((a) => words(a.value).map((w) => w.toUpperCase())),
    );
    const unnamedCaps = [...info.capabilityBoundingSet].filter((c) => !named.has(c));
    if (unnamedCaps.length > 0) {
        out.push(`keeps ${unnamedCaps.length} capabilities it does not name (e.g. ${unnamedCaps.slice(0, 3).join(", ")}); set CapabilityBoundingSet= to the list it needs`);
    }
    if (info.protectSystem !== "strict") {
        out.push(`may write the OS file hierarchy (ProtectSystem=${info.protectSystem}); use ProtectSystem=strict and name writable paths`);
    }
    if (info.protectHome === "no") out.push("may write home directories (ProtectHome=no)");
    const broad = assignments
        .filter((a) => a.section === "Service" && ["ReadWritePaths", "BindPaths"].includes(a.key))
        .flatMap((a) => words(a.value).map((w) => w.replace(/^[-+]/, "").split(":")[0].replace(/\/+$/, "") || "/"))
        .filter((p) => BROAD_PATHS.has(p));
    const explained = explainedLoosenings([u.source.main, ...Object.values(u.source.dropIns ?? {})]);
    if (broad.length > 0 && !explained.has("writablePaths")) out.push(`makes ${[...new Set(broad)].join(", ")} writable, which names no particular path`);
    if (!info.addressFamilies || !info.addressFamilies.allowList) {
        out.push("may open sockets of any address family it does not deny; set RestrictAddressFamilies= to the families it uses");
    }
    if (!info.systemCallFilter || !info.systemCallFilter.allowList) {
        out.push("may make any system call it does not deny; set SystemCallFilter= to an allow list such as @system-service");
    }
    return out;
}

export const systemdNamedPrivilegesOnly = hearthPolicy({
    name: "hearth-systemd-named-privileges-only",
    description: "A service unit a hearth command installs grants capabilities, writable paths, address families and system calls only as far as it names them (allow lists, ProtectSystem=strict).",
    enforcementLevel: "mandatory",
    types: [REMOTE_COMMAND_TYPE],
    remediationSteps: "Render the unit with allow lists: CapabilityBoundingSet=<needed caps>, ProtectSystem=strict with ReadWritePaths=/StateDirectory=, RestrictAddressFamilies=<families>, SystemCallFilter=@system-service.",
    check({ props, report }) {
        for (const u of installedServices(props)) {
            for (const g of unnamedGrants(u)) report(`Unit ${u.unit.name} (${u.unit.main!.path}) ${g}.`);
        }
    },
});
