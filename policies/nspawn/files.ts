// .nspawn files a hearth command installs, parsed with the unit file reader (same syntax).
import type { RemoteCommandProps } from "../../components/core/props";
import { installedFiles } from "../lib/commands";
import { parseUnitFile, UnitAssignment } from "../systemd/unitfile";

export interface NspawnFile {
    readonly path: string;
    readonly machine: string;
    readonly assignments: UnitAssignment[];
}

export function installedNspawnFiles(props: RemoteCommandProps): NspawnFile[] {
    return installedFiles(props)
        .filter((f) => /^\/(etc|run)\/systemd\/nspawn\/[^/]+\.nspawn$/.test(f.path))
        .map((f) => ({ path: f.path, machine: f.path.slice(f.path.lastIndexOf("/") + 1, -".nspawn".length), assignments: parseUnitFile(f.content) }));
}

/** The last value of a key in a section, as systemd reads settings (later assignments win). */
export function lastValue(a: readonly UnitAssignment[], section: string, key: string): string | undefined {
    const hits = a.filter((x) => x.section === section && x.key === key);
    return hits.length ? hits[hits.length - 1].value : undefined;
}
