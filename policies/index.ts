// The hearth policy pack entry: `pulumi preview --policy-pack policies` runs this (constructing the pack starts its server).
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./all";

new PolicyPack("hearth", {
    description: "hearth: sandboxing defaults that cannot be quietly switched off, no secrets in plain state, no data lost on delete.",
    enforcementLevel: "mandatory",
    policies,
});
