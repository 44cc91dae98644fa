// hearth-systemd-loosening-needs-reason: every loosened sandbox setting of a service carries a recorded reason.
import { SERVICE_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { isReason, REASON_RULE } from "../lib/reason";

export const systemdLooseningNeedsReason = hearthPolicy({
    name: "hearth-systemd-loosening-needs-reason",
    description: "Each entry of a SystemdService's `loosen` (a sandbox setting switched off or widened), and a named system user in place of the dynamic one, records why.",
    enforcementLevel: "mandatory",
    types: [SERVICE_TYPE],
    remediationSteps: "Give every `loosen.<setting>` entry a `reason` that says why, or drop the loosening.",
    check({ props, report }) {
        // A named system user instead of the dynamic one is a loosening too, explained beside the name.
        const id = props.identity;
        if (id.kind === "named" && !isReason(id.reason)) {
            report(`The service runs as the system user ${JSON.stringify(id.name)} instead of a dynamic user without a recorded reason: 'user.reason' must be ${REASON_RULE} (got ${JSON.stringify(id.reason ?? null)}).`);
        }
        for (const [setting, entry] of Object.entries(props.loosen)) {
            if (entry && !isReason(entry.reason)) {
                report(`The sandbox setting '${setting}' is loosened without a recorded reason: 'loosen.${setting}.reason' must be ${REASON_RULE} (got ${JSON.stringify(entry.reason ?? null)}).`);
            }
        }
    },
});
