// Shared metadata assertions: every policy has its name, a description, an enforcement level and a config schema with defaults.
import { strict as assert } from "assert";
import type { ResourceValidationPolicy, EnforcementLevel } from "@pulumi/policy";

export function assertMetadata(policy: ResourceValidationPolicy, name: string, level: EnforcementLevel): void {
    assert.equal(policy.name, name);
    assert.match(policy.name, /^hearth-[a-z]+-[a-z-]+$/);
    assert.ok(policy.description.length > 30, "describes the rule");
    assert.equal(policy.enforcementLevel, level);
    const props = policy.configSchema?.properties ?? {};
    assert.ok(props.waivers, "accepts waivers");
    for (const [k, p] of Object.entries(props)) assert.notEqual((p as any).default, undefined, `config '${k}' has a default`);
}
