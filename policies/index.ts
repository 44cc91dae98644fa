// The hearth policy pack entry: `pulumi preview --policy-pack <this package>` loads it (constructing the pack starts its server).
// The offline plan runs the same policies without a server, through ./evaluate.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./all";
import { PACK_ENFORCEMENT_LEVEL } from "./evaluate";

new PolicyPack("hearth", {
    description: "hearth: sandboxing defaults that cannot be quietly switched off, no secrets in plain state, no data lost on delete.",
    enforcementLevel: PACK_ENFORCEMENT_LEVEL,
    policies,
});
