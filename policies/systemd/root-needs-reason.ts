// hearth-systemd-root-needs-reason: a service runs as root only with a recorded reason.
import { SERVICE_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { isReason, REASON_RULE } from "../lib/reason";

const ROOT = new Set(["root", "0"]);

export const systemdRootNeedsReason = hearthPolicy({
    name: "hearth-systemd-root-needs-reason",
    description: "A SystemdService runs as root only when `runAsRoot.reason` records why.",
    enforcementLevel: "mandatory",
    types: [SERVICE_TYPE],
    remediationSteps: "Run the service as a dynamic or static non-root user, or set `runAsRoot: { reason: \"...\" }` saying why it needs root.",
    check({ props, report }) {
        const runAsRoot = props.runAsRoot;
        const wantsRoot = (typeof props.user === "string" && ROOT.has(props.user)) || (runAsRoot !== undefined && runAsRoot !== null && runAsRoot !== false);
        if (!wantsRoot) return;
        const reason = typeof runAsRoot === "object" && runAsRoot !== null ? runAsRoot.reason : undefined;
        if (!isReason(reason)) {
            report(`The service runs as root without a recorded reason: 'runAsRoot.reason' must be ${REASON_RULE} (got ${JSON.stringify(reason ?? null)}).`);
        }
    },
});
