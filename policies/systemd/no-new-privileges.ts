// hearth-systemd-no-new-privileges: a rendered service unit says NoNewPrivileges=yes; remediation adds the line.
import { REMOTE_COMMAND_TYPE } from "../../components/tokens";
import type { RemoteCommandProps } from "../../components/core/props";
import { hearthPolicy } from "../lib/policy";
import { rewriteInstalledFiles } from "../lib/commands";
import { installedServices } from "./installed";

/** Units that neither set NoNewPrivileges= nor get it implied (DynamicUser=yes implies it). */
function unitsMissingNoNewPrivileges(props: RemoteCommandProps) {
    return installedServices(props).filter(
        (u) => !u.info.bools.NoNewPrivileges && !u.assignments.some((a) => a.section === "Service" && a.key === "NoNewPrivileges"),
    );
}

/** Adds `NoNewPrivileges=yes` as the first line of the [Service] section (or a new section at the end). */
export function addNoNewPrivileges(unitText: string): string {
    const lines = unitText.split("\n");
    const at = lines.findIndex((l) => l.trim() === "[Service]");
    if (at < 0) return unitText.replace(/\n*$/, "\n") + "\n[Service]\nNoNewPrivileges=yes\n";
    lines.splice(at + 1, 0, "NoNewPrivileges=yes");
    return lines.join("\n");
}

export const systemdNoNewPrivileges = hearthPolicy({
    name: "hearth-systemd-no-new-privileges",
    description: "A service unit a hearth command installs sets NoNewPrivileges=yes (or DynamicUser=yes, which implies it); an explicit NoNewPrivileges=no is a loosening and is judged by its reason instead. Remediation adds the line.",
    enforcementLevel: "remediate",
    types: [REMOTE_COMMAND_TYPE],
    remediationSteps: "Add NoNewPrivileges=yes to the unit's [Service] section (the `remediate` level does this).",
    check({ props, report }) {
        for (const u of unitsMissingNoNewPrivileges(props)) {
            report(`Unit ${u.unit.name} does not set NoNewPrivileges=yes, so its processes can gain privileges through setuid binaries and file capabilities.`);
        }
    },
    remediate({ props }) {
        const missing = new Set(unitsMissingNoNewPrivileges(props).map((u) => u.unit.main!.path));
        if (missing.size === 0) return undefined;
        const stdin = rewriteInstalledFiles(props, (f) => (missing.has(f.path) ? addNoNewPrivileges(f.content) : f.content));
        return stdin === undefined ? undefined : { ...props, stdin };
    },
});
