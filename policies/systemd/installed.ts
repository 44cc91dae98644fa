// The service units a remote command installs, read back as systemd would load them.
import type { RemoteCommandProps } from "../../components/core/props";
import { installedFiles, installedServiceUnits, InstalledUnit } from "../lib/commands";
import { SecurityInfo, securityInfo } from "./security-info";
import { unitAssignments, UnitSource, UnitAssignment } from "./unitfile";

export interface LoadedUnit {
    readonly unit: InstalledUnit;
    readonly source: UnitSource;
    readonly assignments: UnitAssignment[];
    readonly info: SecurityInfo;
}

export function toUnitSource(u: InstalledUnit): UnitSource {
    return {
        name: u.name,
        main: u.main?.content,
        dropIns: Object.fromEntries(u.dropIns.map((d) => [d.path.slice(d.path.lastIndexOf("/") + 1), d.content])),
    };
}

/**
 * Full service units (a main file, with any drop-ins the same command installs) from a command's props. Drop-ins over
 * a packaged unit are left out: what they sit on is not known here.
 */
export function installedServices(props: RemoteCommandProps): LoadedUnit[] {
    return installedServiceUnits(installedFiles(props))
        .filter((u) => u.main !== undefined)
        .map((unit) => {
            const source = toUnitSource(unit);
            const assignments = unitAssignments(source);
            return { unit, source, assignments, info: securityInfo(unit.name, assignments) };
        });
}
