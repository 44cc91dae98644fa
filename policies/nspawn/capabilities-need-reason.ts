// hearth-nspawn-capabilities-need-reason: capabilities added to a container carry a recorded reason.
import { CONTAINER_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { isReason, REASON_RULE } from "../lib/reason";

export const nspawnCapabilitiesNeedReason = hearthPolicy({
    name: "hearth-nspawn-capabilities-need-reason",
    description: "Each capability an nspawn container gets beyond nspawn's default set records why.",
    enforcementLevel: "mandatory",
    types: [CONTAINER_TYPE],
    remediationSteps: "Give every `capabilities` entry a `reason` that says why the container needs it, or drop it.",
    check({ props, report }) {
        props.capabilities.forEach((c, i) => {
            if (!isReason(c.reason)) {
                report(`The container adds capability ${c.name} ('capabilities[${i}]') without a recorded reason: 'capabilities[${i}].reason' must be ${REASON_RULE} (got ${JSON.stringify(c.reason ?? null)}).`);
            }
        });
    },
});
