// Validators for the values a SystemdService writes into units: paths, unit names, calendar events, listen addresses.
//
// Each is a predicate or a parser, so the schema (schema.ts) can name the argument in its error. Paths follow the
// shared host path rule (core/rules.ts): no character a unit, a shell or a bind list gives a meaning to.
import { isIP } from "net";
import { isHostPath } from "../core/rules";

/** Trees a service must never write to without a written reason (ProtectSystem=strict keeps them read-only). */
const SYSTEM_TREES = [
    "/etc", "/usr", "/boot", "/efi", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/sys", "/dev",
    "/home", "/root", "/var", "/run", "/run/systemd", "/var/lib/systemd", "/run/credentials",
];

/** Trees not even a read-only bind may expose (kernel interfaces and other services' secrets). */
const HIDDEN_TREES = ["/proc", "/sys", "/dev", "/etc/credstore", "/run/credentials"];

function under(p: string, tree: string): boolean {
    return p === tree || p.startsWith(tree + "/");
}

/** Whether making `p` writable loosens the system: it is a system tree, or /var or /run themselves. */
export function isSystemTree(p: string): boolean {
    return SYSTEM_TREES.some((t) => (t === "/var" || t === "/run" ? p === t : under(p, t)));
}

export function isHiddenTree(p: string): boolean {
    return HIDDEN_TREES.some((t) => under(p, t));
}

/** A unit base name hearth writes a full unit for: lowercase, no instance `@`, no type suffix. */
export const UNIT_BASE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Units hearth must never shadow with a full unit in /etc/systemd/system: it would lose its own way in, or the host's. */
const PROTECTED_BASES = /^(ssh|sshd|dbus|dbus-broker|getty|serial-getty|console-getty|container-getty|user|user-runtime-dir|emergency|rescue|init|networking|cron|polkit|systemd-.*)$/;

export function isProtectedUnitBase(base: string): boolean {
    return PROTECTED_BASES.test(base);
}

/** A packaged service a drop-in may target: `nginx.service`, `postgresql@15-main.service`, `getty@.service`. */
export const PACKAGED_SERVICE = /^[A-Za-z0-9][A-Za-z0-9:_.-]{0,200}(@[A-Za-z0-9:_.-]{0,50})?\.service$/;

// ---- OnCalendar= -----------------------------------------------------------------------------------------------

const SHORTHANDS = ["minutely", "hourly", "daily", "weekly", "monthly", "yearly", "annually", "quarterly", "semiannually"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
// A Map, not an object: `constructor` or `__proto__` must not read as a day.
const DAY_NAMES: ReadonlyMap<string, number> = new Map(
    DAYS.flatMap((d, i): [string, number][] => [[d, i], [["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"][i], i]]),
);
const TIMEZONE = /^(UTC|[A-Za-z][A-Za-z_]*(\/[A-Za-z0-9][A-Za-z0-9_+-]*){1,2})$/;

/** A timezone systemd can load: UTC, or an IANA name the runtime's time zone database knows. */
function knownTimezone(token: string): boolean {
    if (!TIMEZONE.test(token)) return false;
    if (token === "UTC") return true;
    try {
        new Intl.DateTimeFormat("en", { timeZone: token });
        return true;
    } catch {
        return false;
    }
}

function checkDays(token: string): boolean {
    return token.split(",").every((item) => {
        const m = /^([A-Za-z]+)(?:\.\.([A-Za-z]+))?$/.exec(item);
        if (!m) return false;
        const a = DAY_NAMES.get(m[1].toLowerCase());
        const b = m[2] === undefined ? a : DAY_NAMES.get(m[2].toLowerCase());
        return a !== undefined && b !== undefined && a <= b;
    });
}

/** One calendar component: `*`, or a comma list of `n`, `n..m`, each optionally `/step`, all within [min, max]. */
function checkComponent(text: string, min: number, max: number, fraction = false): boolean {
    if (text === "*") return true;
    const num = fraction ? "(\\d{1,4})(?:\\.\\d{1,6})?" : "(\\d{1,4})";
    const item = new RegExp(`^${num}(?:\\.\\.${num})?(?:/(\\d{1,4}))?$`);
    return text.split(",").every((part) => {
        const m = item.exec(part);
        if (!m) return false;
        const a = Number(m[1]);
        const b = m[2] === undefined ? a : Number(m[2]);
        if (m[3] !== undefined && Number(m[3]) === 0) return false;
        return a >= min && b <= max && a <= b;
    });
}

function checkYear(text: string): boolean {
    if (text === "*") return true;
    // systemd reads two-digit years as 19xx/20xx and accepts four-digit years from 1970 to 2199.
    return text.split(",").every((part) => {
        const m = /^(\d{2}|\d{4})(?:\.\.(\d{2}|\d{4}))?(?:\/(\d{1,3}))?$/.exec(part);
        if (!m) return false;
        const ok = (y: string) => y.length === 2 || (Number(y) >= 1970 && Number(y) <= 2199);
        return ok(m[1]) && (m[2] === undefined || ok(m[2])) && (m[3] === undefined || Number(m[3]) > 0);
    });
}

function checkDate(token: string): boolean {
    const m = /^(?:([^-~]+)-)?([^-~]+)([-~])([^-~]+)$/.exec(token);
    if (!m) return false;
    return (m[1] === undefined || checkYear(m[1])) && checkComponent(m[2], 1, 12) && checkComponent(m[4], 1, 31);
}

function checkTime(token: string): boolean {
    const parts = token.split(":");
    if (parts.length < 2 || parts.length > 3) return false;
    return checkComponent(parts[0], 0, 23) && checkComponent(parts[1], 0, 59) && (parts[2] === undefined || checkComponent(parts[2], 0, 59, true));
}

/**
 * Checks an `OnCalendar=` expression against systemd.time(7): a shorthand (`daily`), `@epoch`, or
 * `[DayOfWeek] [[Year-]Month-Day] [Hour:Minute[:Second]] [Timezone]`. Conservative: every expression it accepts,
 * `systemd-analyze calendar` accepts too (the spec checks both on a corpus); timezones must be IANA names (the host needs them in its tzdata).
 */
export function isCalendarExpression(value: unknown): value is string {
    if (typeof value !== "string" || value.length === 0 || value.length > 128 || !/^[\x21-\x7e]+( [\x21-\x7e]+)*$/.test(value)) return false;
    if (/^@\d{1,12}$/.test(value)) return true;
    const tokens = value.split(" ");
    if (SHORTHANDS.includes(tokens[0].toLowerCase())) {
        return tokens.length === 1 || (tokens.length === 2 && knownTimezone(tokens[1]));
    }
    let i = 0;
    let parts = 0;
    const at = (test: (t: string) => boolean) => i < tokens.length && test(tokens[i]);
    if (at((t) => /^[A-Za-z]/.test(t) && !TIMEZONE.test(t))) {
        if (!checkDays(tokens[i])) return false;
        i++;
        parts++;
    }
    if (at((t) => /^[\d*]/.test(t) && /[-~]/.test(t) && !t.includes(":"))) {
        if (!checkDate(tokens[i])) return false;
        i++;
        parts++;
    }
    if (i < tokens.length && tokens[i].includes(":")) {
        if (!checkTime(tokens[i])) return false;
        i++;
        parts++;
    }
    if (parts > 0 && i < tokens.length && knownTimezone(tokens[i])) i++;
    return parts > 0 && i === tokens.length;
}

// ---- ListenStream= ---------------------------------------------------------------------------------------------

export type ListenStream =
    | { readonly kind: "port"; readonly port: number }
    | { readonly kind: "inet"; readonly address: string; readonly port: number }
    | { readonly kind: "unix"; readonly path: string };

/** Parses a socket listen spec: a port, `address:port` (IPv6 in brackets), or an absolute unix socket path. */
export function parseListenStream(value: unknown): ListenStream | undefined {
    const portOk = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;
    if (typeof value === "number") return portOk(value) ? { kind: "port", port: value } : undefined;
    if (typeof value !== "string") return undefined;
    if (value.startsWith("/")) {
        // sun_path holds 108 bytes including the terminating NUL.
        return isHostPath(value) && Buffer.byteLength(value) <= 107 ? { kind: "unix", path: value } : undefined;
    }
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(value);
    if (!m) return undefined;
    const port = Number(m[3]);
    if (!portOk(port) || String(port) !== m[3]) return undefined;
    if (m[1] !== undefined) return isIP(m[1]) === 6 ? { kind: "inet", address: `[${m[1]}]`, port } : undefined;
    return isIP(m[2]) === 4 && m[2].split(".").every((o) => String(Number(o)) === o) ? { kind: "inet", address: m[2], port } : undefined;
}

export function listenStreamText(l: ListenStream): string {
    return l.kind === "port" ? String(l.port) : l.kind === "inet" ? `${l.address}:${l.port}` : l.path;
}
