// hearth-systemd-root-needs-reason: a service runs as root only with a recorded reason.
import { SERVICE_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { isReason, REASON_RULE } from "../lib/reason";

const ROOT = new Set(["root", "0"]);

/** Whether a service's props say it runs as root, and the reason recorded for it. */
export function rootOf(props: Record<string, any>): { root: boolean; reason: unknown; arg: string } {
    // SystemdService records its resolved identity; older or hand-built props may carry the raw args instead.
    const id = props.identity;
    if (id && typeof id === "object") return { root: id.kind === "root", reason: id.reason, arg: "runAsRoot.reason" };
    const user = typeof props.user === "string" ? props.user : props.user?.name;
    const runAsRoot = props.runAsRoot;
    const root = (typeof user === "string" && ROOT.has(user)) || (runAsRoot !== undefined && runAsRoot !== null && runAsRoot !== false);
    return { root, reason: runAsRoot && typeof runAsRoot === "object" ? runAsRoot.reason : undefined, arg: "runAsRoot.reason" };
}

export const systemdRootNeedsReason = hearthPolicy({
    name: "hearth-systemd-root-needs-reason",
    description: "A SystemdService runs as root only when `runAsRoot.reason` records why.",
    enforcementLevel: "mandatory",
    types: [SERVICE_TYPE],
    remediationSteps: "Run the service as its dynamic user, or set `runAsRoot: { reason: \"...\" }` saying why it needs root.",
    check({ props, report }) {
        const { root, reason, arg } = rootOf(props);
        if (root && !isReason(reason)) {
            report(`The service runs as root without a recorded reason: '${arg}' must be ${REASON_RULE} (got ${JSON.stringify(reason ?? null)}).`);
        }
    },
});
