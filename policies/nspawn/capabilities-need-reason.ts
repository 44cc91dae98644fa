// hearth-nspawn-capabilities-need-reason: capabilities added to a container carry a recorded reason.
import { CONTAINER_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { isReason, REASON_RULE } from "../lib/reason";

/** The capability lists a container's props may carry, each with the reason that sits beside it. */
function capabilityGrants(props: Record<string, any>): { arg: string; caps: unknown; reason: unknown }[] {
    const out: { arg: string; caps: unknown; reason: unknown }[] = [];
    const read = (arg: string, v: any) => {
        if (v === undefined || v === null) return;
        // NspawnContainer records each capability with its own reason: [{ name, reason }].
        if (Array.isArray(v) && v.some((c) => c && typeof c === "object")) {
            v.forEach((c, i) => out.push({ arg: `${arg}[${i}]`, caps: [c?.name ?? c?.cap ?? null], reason: c?.reason }));
        } else if (Array.isArray(v) || typeof v === "string") out.push({ arg, caps: v, reason: undefined });
        else if (typeof v === "object") out.push({ arg, caps: v.add ?? v.caps ?? v.names ?? v.capabilities ?? v.list, reason: v.reason });
    };
    read("capabilities", props.capabilities);
    read("addCapabilities", props.addCapabilities);
    read("loosen.capabilities", props.loosen?.capabilities);
    return out.filter((g) => (Array.isArray(g.caps) ? g.caps.length > 0 : typeof g.caps === "string" && g.caps !== ""));
}

export const nspawnCapabilitiesNeedReason = hearthPolicy({
    name: "hearth-nspawn-capabilities-need-reason",
    description: "Capabilities added to an nspawn container beyond nspawn's default set are listed with a recorded reason.",
    enforcementLevel: "mandatory",
    types: [CONTAINER_TYPE],
    remediationSteps: "Write the capabilities as `{ add: [\"CAP_...\"], reason: \"...\" }`, or drop them.",
    check({ props, report }) {
        for (const g of capabilityGrants(props)) {
            if (!isReason(g.reason)) {
                report(`The container adds capabilities ${JSON.stringify(g.caps)} ('${g.arg}') without a recorded reason: the reason must be ${REASON_RULE}.`);
            }
        }
    },
});
