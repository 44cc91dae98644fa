// pg_hba.conf lines and role SQL found in a PostgreSQL component's props or in what a command installs or runs.
import type { RemoteCommandProps } from "../../components/core/props";
import { commandTexts, installedFiles, unwrapCommand } from "../lib/commands";

const HBA_LINE = /^\s*(local|host|hostssl|hostnossl|hostgssenc|hostnogssenc)\s+(.+)$/;
/** Methods that send or accept a password without SCRAM, or no password at all. */
export const WEAK_METHODS = ["trust", "password", "md5"];

/** The auth method of a pg_hba line (the first word after the address columns), or undefined if it is not one. */
export function hbaMethod(line: string): string | undefined {
    const m = HBA_LINE.exec(line.replace(/#.*$/, ""));
    if (!m) return undefined;
    const cols = m[2].trim().split(/\s+/);
    // local: database user method; host*: database user address [mask] method.
    const methods = ["trust", "reject", "scram-sha-256", "md5", "password", "gss", "sspi", "ident", "peer", "pam", "ldap", "radius", "cert"];
    const first = m[1] === "local" ? 2 : 3;
    return cols.slice(first).find((c) => methods.includes(c));
}

/** Texts where SQL and pg_hba lines may appear: command texts and the bodies of files the command installs. */
export function postgresTexts(props: RemoteCommandProps): { where: string; text: string }[] {
    return [
        ...commandTexts(props).map((c) => ({ where: `'${c.field}' command`, text: unwrapCommand(c.text) })),
        ...installedFiles(props).map((f) => ({ where: f.path, text: f.content })),
    ];
}

/** Roles a SQL text creates or alters with SUPERUSER (not NOSUPERUSER). */
export function superuserRoles(sql: string): string[] {
    const out: string[] = [];
    for (const m of sql.matchAll(/\b(?:CREATE|ALTER)\s+(?:ROLE|USER)\s+("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*|:"?[a-z_]+"?)([^;]*)/gi)) {
        if (/(^|[^A-Za-z_])SUPERUSER\b/i.test(m[2].replace(/\bNOSUPERUSER\b/gi, ""))) out.push(m[1]);
    }
    return out;
}
