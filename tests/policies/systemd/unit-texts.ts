// Unit texts for the file-level systemd policy specs: a hearth-style locked-down unit and ways to loosen it, and the
// unit a real SystemdService installs.
import type { ResourceValidationArgs } from "@pulumi/policy";
import type { RemoteCommandProps } from "../../../components/core/props";
import { SystemdService } from "../../../components/systemd";
import { installedFiles } from "../../../policies/lib/commands";
import { declare, fixtureHost } from "../fixtures";
import { LOCKED_DOWN } from "./unit-fixtures";

export const LOCKED_UNIT = ["[Unit]", "Description=locked", "", "[Service]", "ExecStart=/usr/bin/app", ...LOCKED_DOWN, ""].join("\n");

/** The locked unit with some settings replaced (key → new lines; an empty list drops the key). */
export function lockedWith(changes: Record<string, string[]>): string {
    const lines = LOCKED_UNIT.split("\n").filter((l) => !Object.keys(changes).some((k) => l.startsWith(`${k}=`)));
    const at = lines.indexOf("ExecStart=/usr/bin/app") + 1;
    lines.splice(at, 0, ...Object.values(changes).flat());
    return lines.join("\n");
}

/** The converge command of a real SystemdService with default hardening (its unit as hearth renders it). */
export async function realConverge(): Promise<ResourceValidationArgs> {
    const d = await declare(() => new SystemdService("web", { host: fixtureHost(), description: "web", execStart: ["/usr/bin/web", "--port", "8080"], network: "local", listenPorts: [8080], stateDirectory: "web" }));
    const args = d.args("web-converge");
    // Not vacuous: the command installs the unit the file-level policies read.
    if (!installedFiles(args.props as RemoteCommandProps).some((f) => f.path === "/etc/systemd/system/web.service")) throw new Error("the converge command installs no web.service");
    return args;
}
