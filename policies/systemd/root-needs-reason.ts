// hearth-systemd-root-needs-reason: a service runs as root only with a recorded reason.
import { SERVICE_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { isReason, REASON_RULE } from "../lib/reason";

export const systemdRootNeedsReason = hearthPolicy({
    name: "hearth-systemd-root-needs-reason",
    description: "A SystemdService runs as root only when `runAsRoot.reason` records why.",
    enforcementLevel: "mandatory",
    types: [SERVICE_TYPE],
    remediationSteps: "Run the service as its dynamic user, or set `runAsRoot: { reason: \"...\" }` saying why it needs root.",
    check({ props, report }) {
        const id = props.identity;
        if (id.kind === "root" && !isReason(id.reason)) {
            report(`The service runs as root without a recorded reason: 'runAsRoot.reason' must be ${REASON_RULE} (got ${JSON.stringify(id.reason ?? null)}).`);
        }
    },
});
