// HostUpgrades arguments: one zod schema that is their type, their validation and their README table.
import { int, list, ONCE_VALID, problem, record, say, z } from "../core/schema";
import { isCalendarExpression } from "../systemd/check";
import { hostArg } from "../validate";
import { DEBIAN_SECURITY_ORIGIN } from "./render";

export { DEBIAN_SECURITY_ORIGIN };

/** What a calendar argument holds: the rule SystemdService's `timer.onCalendar` uses, and one that elapses again and again. */
export const CALENDAR_ALLOWED =
    "a systemd calendar expression (systemd.time(7)) that repeats, e.g. 'daily', 'Sun 03:00', '*-*-* 04:30:00' (no @timestamp; no fixed year: * or a repetition such as 2025/1; a month and day that exist, not *-02-30 or *-*~29)";

/** The most days each month has (February in a leap year). */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The numbers of a calendar field written as plain numbers and ranges (`2,4..6`); undefined when it has `*` or a repetition. */
function plainValues(field: string): number[] | undefined {
    const out: number[] = [];
    for (const e of field.split(",")) {
        const m = /^(\d+)(?:\.\.(\d+))?$/.exec(e);
        if (!m) return undefined;
        for (let n = Number(m[1]); n <= Number(m[2] ?? m[1]) && out.length < 400; n++) out.push(n);
    }
    return out;
}

/**
 * A calendar expression that can be decided offline to elapse again and again, as a reboot window or an upgrade time
 * must: no `@timestamp` (one moment), a year that is `*` or has a repetition with no end (`2025/1`), and a month and
 * day some month has (`*-02-30` never comes; from a month's end, `~`, systemd reads up to 28 days). What it cannot decide (a weekday no such date falls on) the converge asks
 * systemd on the host (`systemd-analyze calendar`).
 */
export function isRepeatingCalendar(v: string): boolean {
    if (v.startsWith("@")) return false;
    for (const t of v.split(" ")) {
        if (!/^[\d*]/.test(t) || !/[-~]/.test(t) || t.includes(":")) continue;
        const m = /^(?:([^-~]+)-)?([^-~]+)([-~])([^-~]+)$/.exec(t);
        if (!m) continue;
        if (m[1] !== undefined && !m[1].split(",").some((e) => e === "*" || /^(?:\*|\d+)\/\d+$/.test(e))) return false;
        const months = plainValues(m[2]);
        const days = plainValues(m[4]);
        // Counted from a month's end (`~`), systemd reads days up to 28 only.
        if (m[3] === "~" && days?.some((d) => d > 28)) return false;
        if (months && days && !months.some((mo) => mo >= 1 && mo <= 12 && days.some((d) => d >= 1 && d <= DAYS_IN_MONTH[mo - 1]))) return false;
    }
    return true;
}

/** The keys unattended-upgrades reads in an Origins-Pattern entry (its long names and their one-letter forms). */
export const ORIGIN_KEYS = ["origin", "codename", "archive", "suite", "label", "component", "site", "o", "n", "a", "l", "c"] as const;

/** A value in an origin pattern: letters, digits, `. _ - + ~ : / @`, inner spaces, and the two macros unattended-upgrades expands. */
const ORIGIN_VALUE = /^(?:[A-Za-z0-9._+~:/@-]|\$\{distro_codename\}|\$\{distro_id\}|(?<=[^ ]) (?=[^ ]))+$/;

export const ORIGIN_ALLOWED =
    "an unattended-upgrades origin pattern 'key=value,key=value' (keys: origin, codename, archive, suite, label, component, site or o, n, a, l, c, each at most once; values of letters, digits, . _ - + ~ : / @, single inner spaces and ${distro_codename} or ${distro_id}; no quotes, commas inside a value, newlines or other characters; at most 200 characters)";

/** An origin pattern as unattended-upgrades' Origins-Pattern takes it, safe inside an apt.conf string. */
export function isOriginPattern(v: unknown): v is string {
    if (typeof v !== "string" || v.length === 0 || v.length > 200) return false;
    const seen = new Set<string>();
    for (const part of v.split(",")) {
        const eq = part.indexOf("=");
        if (eq < 0) return false;
        const key = part.slice(0, eq);
        const value = part.slice(eq + 1);
        if (!(ORIGIN_KEYS as readonly string[]).includes(key) || seen.has(key)) return false;
        seen.add(key);
        if (!ORIGIN_VALUE.test(value)) return false;
    }
    return true;
}

/** The shortest and longest reboot window, in minutes: the timer may start up to a minute late (AccuracySec=). */
export const MIN_WINDOW_MINUTES = 5;
export const MAX_WINDOW_MINUTES = 1440;

const calendar = () => z.string(say(CALENDAR_ALLOWED)).refine((v) => isCalendarExpression(v) && isRepeatingCalendar(v), say(CALENDAR_ALLOWED));

export const hostUpgradesShape = {
    host: hostArg().describe("The Debian host whose packages unattended-upgrades keeps patched (apt, systemd; reached with `sudo -n`)."),
    extraOrigins: list(z.string(say(ORIGIN_ALLOWED)).refine(isOriginPattern, say(ORIGIN_ALLOWED)), "an array of origin patterns", 20)
        .optional()
        .describe(
            "Origins upgraded besides Debian's security archive (`origin=Debian,codename=${distro_codename}-security,label=Debian-Security`, always included), as unattended-upgrades' `Origins-Pattern` entries, e.g. `origin=Debian,codename=${distro_codename}-updates`. Each at most once. @default []",
        ),
    upgradeTime: record(
        {
            onCalendar: calendar().describe(
                "When `apt-daily-upgrade.timer` runs unattended-upgrade (its `OnCalendar=`, replacing the packaged `6:00`): a calendar that repeats (no `@timestamp`, no fixed year, a month and day that exist; the converge asks systemd on the host that it elapses again). Another drop-in that moves it is refused by the converge and reported by the check.",
            ),
            randomizedDelaySec: int(0, 6 * 3600)
                .optional()
                .describe("Spread the start by up to this many seconds (`RandomizedDelaySec=`, replacing the packaged 60 minutes). @default 0"),
        },
        "an upgrade time { onCalendar, randomizedDelaySec? }",
    )
        .optional()
        .describe("A declared upgrade time: a drop-in on apt's `apt-daily-upgrade.timer`. @default - apt's packaged schedule (06:00 plus up to 60 minutes)"),
    rebootWindow: record(
        {
            onCalendar: calendar().describe(
                "When the window opens: the `OnCalendar=` of the `hearth-reboot-window.timer`, in the host's local time; a calendar that repeats (no `@timestamp`, no fixed year, a month and day that exist; the converge asks systemd on the host that it elapses again).",
            ),
            durationMinutes: int(MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES).describe("How long the window stays open after each opening, in minutes; a run outside it never reboots."),
        },
        "a reboot window { onCalendar, durationMinutes }",
    )
        .optional()
        .describe(
            "When the host may reboot by itself: only when a reboot is required (`/run/reboot-required`) and only inside the window; a late run (the host was off when it opened) outside it does not reboot. @default - never: hearth does not reboot the host, the drift check reports a pending reboot",
        ),
};

/** Rules between entries: each origin at most once, and none the same as Debian's security origin. */
export function checkHostUpgrades(v: { readonly extraOrigins?: readonly string[] }, ctx: z.RefinementCtx): void {
    const seen = new Set<string>([DEBIAN_SECURITY_ORIGIN]);
    (v.extraOrigins ?? []).forEach((o, i) => {
        if (seen.has(o)) problem(ctx, ["extraOrigins", i], o, `an origin not listed before (and not Debian's security origin, which is always included): '${o}' is listed twice`);
        seen.add(o);
    });
}

export const HostUpgradesArgsSchema = record(hostUpgradesShape, "HostUpgradesArgs").superRefine(checkHostUpgrades, ONCE_VALID);

export type HostUpgradesArgs = z.input<typeof HostUpgradesArgsSchema>;
