// hearth-postgres-scram-only: PostgreSQL authenticates with scram-sha-256 only: no trust, md5 or clear-text password.
import { REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { hbaMethod, postgresTexts, WEAK_METHODS } from "./hba";

export const postgresScramOnly = hearthPolicy({
    name: "hearth-postgres-scram-only",
    description: "PostgreSQL access is authenticated with scram-sha-256 (or peer for local admin): no `trust`, `md5` or clear-text `password` in the pg_hba entries a command installs or writes, and password_encryption stays scram-sha-256.",
    enforcementLevel: "mandatory",
    types: [REMOTE_COMMAND_TYPE],
    remediationSteps: "Use method scram-sha-256 in pg_hba entries and leave password_encryption at scram-sha-256.",
    check({ props, report }) {
        for (const { where, text } of postgresTexts(props)) {
            for (const line of text.split("\n")) {
                // A script may write an entry from a quoted string (echo '...' >> pg_hba.conf).
                const candidates = [line, ...[...line.matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => m[1] ?? m[2])];
                const weak = candidates.map((c) => ({ c, method: hbaMethod(c) })).find((x) => x.method && WEAK_METHODS.includes(x.method));
                if (weak) report(`${where} has a pg_hba entry with method '${weak.method}': ${weak.c.trim()}`);
            }
            const enc = /\bpassword_encryption\s*(?:=|TO)\s*'?(md5|on|off)'?/i.exec(text);
            if (enc) report(`${where} sets password_encryption to '${enc[1]}'; passwords must be stored as scram-sha-256.`);
        }
    },
});
