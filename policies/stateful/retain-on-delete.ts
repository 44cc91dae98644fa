// hearth-stateful-retain-on-delete: datasets and databases keep their data when the resource is deleted, unless waived.
import { DATABASE_TYPE, DATASET_TYPE, REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { unwrapCommand } from "../lib/commands";
import { hearthPolicy } from "../lib/policy";

/** Delete-script commands that throw data away. */
const DESTRUCTIVE: { what: string; re: RegExp }[] = [
    { what: "zfs destroy", re: /(^|[\s;&|(])zfs\s+destroy\b/m },
    { what: "zpool destroy", re: /(^|[\s;&|(])zpool\s+destroy\b/m },
    { what: "DROP DATABASE", re: /\bDROP\s+DATABASE\b/i },
    { what: "dropdb", re: /(^|[\s;&|(])dropdb\b/m },
    { what: "DROP SCHEMA … CASCADE", re: /\bDROP\s+SCHEMA\b[^;]*\bCASCADE\b/i },
    { what: "pg_dropcluster", re: /(^|[\s;&|(])pg_dropcluster\b/m },
];

export const statefulRetainOnDelete = hearthPolicy({
    name: "hearth-stateful-retain-on-delete",
    description: "ZFS datasets and PostgreSQL databases are retained when their resource is deleted; destroying data on delete needs a waiver with a reason (the explicit opt-in), and so does a remote command whose delete script destroys data.",
    enforcementLevel: "mandatory",
    types: [DATASET_TYPE, DATABASE_TYPE, REMOTE_COMMAND_TYPE],
    remediationSteps: "Leave `destroyOnDelete` unset; to really drop the data on delete, add a waiver naming the resource with the reason.",
    check(r) {
        if (r.type === REMOTE_COMMAND_TYPE) {
            if (typeof r.props.delete !== "string") return;
            const script = unwrapCommand(r.props.delete);
            const hits = DESTRUCTIVE.filter((d) => d.re.test(script)).map((d) => d.what);
            if (hits.length > 0) r.report(`The delete script destroys data (${hits.join(", ")}); deleting this resource would lose it.`);
            return;
        }
        if (r.props.destroyOnDelete) r.report(`The ${r.type === DATASET_TYPE ? "dataset" : "database"} is destroyed on delete ('destroyOnDelete' is true); its data would be lost.`);
    },
});
