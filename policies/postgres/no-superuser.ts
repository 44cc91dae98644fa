// hearth-postgres-no-superuser: application roles are never PostgreSQL superusers.
import { REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { postgresTexts, superuserRoles } from "./hba";

export const postgresNoSuperuser = hearthPolicy({
    name: "hearth-postgres-no-superuser",
    description: "Roles hearth creates for applications are not superusers (no SUPERUSER in the SQL a command runs or installs; PostgresDb records no role options).",
    enforcementLevel: "mandatory",
    types: [REMOTE_COMMAND_TYPE],
    remediationSteps: "Give the role ownership of its database instead; grant narrower privileges for what it needs.",
    check({ props, report }) {
        for (const { where, text } of postgresTexts(props)) {
            for (const role of superuserRoles(text)) report(`${where} makes role ${role} a superuser.`);
        }
    },
});
