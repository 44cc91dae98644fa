// HostDriftTimer arguments: one zod schema that is their type, their validation and their README table.
import { int, record, say, z } from "../core/schema";
import { isCalendarExpression } from "../systemd/check";
import { hostArg } from "../validate";

/** The rule SystemdService's `timer.onCalendar` holds an expression to (systemd/check.ts: isCalendarExpression). */
export const CALENDAR_ALLOWED = "a systemd calendar expression (systemd.time(7)), e.g. 'daily', 'Mon..Fri 09:00', '*-*-* 03:30:00', '*:0/15'";

/** Longest spread of the start time: a week, as SystemdService's timer allows. */
export const MAX_RANDOMIZED_DELAY_SEC = 7 * 86400;

export const driftTimerShape = {
    host: hostArg().describe("The host whose own checks the timer runs: every converge registered on this Host before the timer is declared (declare it last)."),
    onCalendar: z
        .string(say(CALENDAR_ALLOWED))
        .refine(isCalendarExpression, say(CALENDAR_ALLOWED))
        .optional()
        .describe("When the check runs (`OnCalendar=` of its timer), by the same rule as SystemdService's `timer.onCalendar`. @default \"daily\""),
    randomizedDelaySec: int(0, MAX_RANDOMIZED_DELAY_SEC)
        .optional()
        .describe("Spread the start time by up to this many seconds (`RandomizedDelaySec=`), so the hosts of a site do not all check at once. @default 0"),
};

/** The timer's schedule, as a site config entry gives it (everything but the host). */
export const driftTimerScheduleSchema = record({ onCalendar: driftTimerShape.onCalendar, randomizedDelaySec: driftTimerShape.randomizedDelaySec }, "a drift timer schedule");

export const HostDriftTimerArgsSchema = record(driftTimerShape, "HostDriftTimerArgs");

export type HostDriftTimerArgs = z.input<typeof HostDriftTimerArgsSchema>;
