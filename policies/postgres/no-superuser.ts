// hearth-postgres-no-superuser: application roles are never PostgreSQL superusers.
import { DATABASE_TYPE, REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { truthy } from "../lib/props";
import { postgresTexts, superuserRoles } from "./hba";

export const postgresNoSuperuser = hearthPolicy({
    name: "hearth-postgres-no-superuser",
    description: "Roles hearth creates for applications are not superusers (no SUPERUSER in role options or in the SQL a command runs).",
    enforcementLevel: "mandatory",
    types: [DATABASE_TYPE, REMOTE_COMMAND_TYPE],
    remediationSteps: "Give the role ownership of its database instead; grant narrower privileges for what it needs.",
    check({ type, props, report }) {
        if (type === DATABASE_TYPE) {
            if (truthy(props.superuser)) report(`The database's role is a superuser ('superuser' is ${JSON.stringify(props.superuser)}).`);
            const opts = [props.roleOptions, props.role?.options, props.role?.attributes].flat().filter((o) => typeof o === "string");
            if (opts.some((o: string) => /^SUPERUSER$/i.test(o.trim()))) report(`The database's role options include SUPERUSER (${JSON.stringify(opts)}).`);
            return;
        }
        for (const { where, text } of postgresTexts(props)) {
            for (const role of superuserRoles(text)) report(`${where} makes role ${role} a superuser.`);
        }
    },
});
