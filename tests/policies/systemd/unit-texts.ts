// Unit texts for the file-level systemd policy specs: a hearth-style locked-down unit and ways to loosen it.
import { LOCKED_DOWN } from "./unit-fixtures";

export const LOCKED_UNIT = ["[Unit]", "Description=locked", "", "[Service]", "ExecStart=/usr/bin/app", ...LOCKED_DOWN, ""].join("\n");

/** The locked unit with some settings replaced (key → new lines; an empty list drops the key). */
export function lockedWith(changes: Record<string, string[]>): string {
    const lines = LOCKED_UNIT.split("\n").filter((l) => !Object.keys(changes).some((k) => l.startsWith(`${k}=`)));
    const at = lines.indexOf("ExecStart=/usr/bin/app") + 1;
    lines.splice(at, 0, ...Object.values(changes).flat());
    return lines.join("\n");
}
