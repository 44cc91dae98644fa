// hearth-systemd-loosening-needs-reason: every loosened sandbox setting of a service carries a recorded reason.
import { SERVICE_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { isReason, REASON_RULE } from "../lib/reason";

export const systemdLooseningNeedsReason = hearthPolicy({
    name: "hearth-systemd-loosening-needs-reason",
    description: "Each entry of a SystemdService's `loosen` (a sandbox setting switched off or widened), and a named system user in place of the dynamic one, records why.",
    enforcementLevel: "mandatory",
    types: [SERVICE_TYPE],
    remediationSteps: "Give every `loosen.<setting>` entry a `reason`, or drop the loosening.",
    check({ props, report }) {
        // A named system user instead of the dynamic one is a loosening too, explained beside the name.
        const id = props.identity;
        const named = id && typeof id === "object" ? (id.kind === "named" ? id : undefined) : props.user && typeof props.user === "object" && props.user.name ? props.user : undefined;
        if (named && !isReason(named.reason)) {
            report(`The service runs as the system user ${JSON.stringify(named.name)} instead of a dynamic user without a recorded reason: 'user.reason' must be ${REASON_RULE} (got ${JSON.stringify(named.reason ?? null)}).`);
        }
        const loosen = props.loosen;
        if (loosen === undefined || loosen === null) return;
        if (typeof loosen !== "object" || Array.isArray(loosen)) {
            report(`'loosen' must map each loosened setting to an object with a 'reason', got ${JSON.stringify(loosen)}.`);
            return;
        }
        for (const [setting, entry] of Object.entries(loosen)) {
            if (entry === undefined || entry === null || entry === false) continue;
            const reason = typeof entry === "object" && !Array.isArray(entry) ? (entry as any).reason : undefined;
            if (!isReason(reason)) {
                report(`The sandbox setting '${setting}' is loosened without a recorded reason: 'loosen.${setting}.reason' must be ${REASON_RULE} (got ${JSON.stringify(reason ?? null)}).`);
            }
        }
    },
});
