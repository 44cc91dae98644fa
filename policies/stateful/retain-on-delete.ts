// hearth-stateful-retain-on-delete: datasets and databases keep their data when the resource is deleted, unless waived.
import { DATABASE_TYPE, DATASET_TYPE, REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { unwrapCommand } from "../lib/commands";
import { hearthPolicy } from "../lib/policy";
import { falsy, truthy } from "../lib/props";

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
    check({ type, props, report }) {
        if (type === REMOTE_COMMAND_TYPE) {
            if (typeof props.delete !== "string") return;
            const script = unwrapCommand(props.delete);
            const hits = DESTRUCTIVE.filter((d) => d.re.test(script)).map((d) => d.what);
            if (hits.length > 0) report(`The delete script destroys data (${hits.join(", ")}); deleting this resource would lose it.`);
            return;
        }
        const kind = type === DATASET_TYPE ? "dataset" : "database";
        for (const key of ["destroyOnDelete", "deleteData", "destroy"]) {
            if (truthy(props[key])) report(`The ${kind} is destroyed on delete ('${key}' is ${JSON.stringify(props[key])}); its data would be lost.`);
        }
        for (const key of ["retainOnDelete", "keepOnDelete"]) {
            if (falsy(props[key])) report(`The ${kind} is not retained on delete ('${key}' is ${JSON.stringify(props[key])}); its data would be lost.`);
        }
    },
});
