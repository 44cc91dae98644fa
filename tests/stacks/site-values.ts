// Site config values for the site specs: the hosts they declare entries on, and the site program built on values the
// way stacks/index.ts builds it, reporting its config problems.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { parseSiteConfig } from "../../stacks/schema";
import { buildSite } from "../../stacks/site";
import { recorded, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";

/** The values of a site's config keys (without the hearth: namespace), structured sections parsed. */
export type Values = Record<string, any>;

/** hearth:hosts entries web1 (192.0.2.10) and web2 (192.0.2.11), both with zfs, fresh objects at each call. */
export function webHosts(count: 1 | 2 = 2): Values[] {
    return [
        { name: "web1", address: "192.0.2.10", hostKey: TEST_HOST_KEY, facts: { zfs: true } },
        { name: "web2", address: "192.0.2.11", hostKey: TEST_HOST_KEY, facts: { zfs: true } },
    ].slice(0, count);
}

/** Builds the site in a fresh recording; returns the config problems (one ResourceError listing them) or [] when it built. */
export function buildProblems(v: Values): string[] {
    resetRecorded();
    try {
        buildSite(parseSiteConfig({ values: v, secretKeys: new Set(["sshPrivateKey"]) }), { secret: () => pulumi.secret("fake-secret-value") });
        return [];
    } catch (e) {
        return (e as Error).message.split("\n").slice(1).map((l) => l.trim());
    }
}

/** The config problems of a site that must be refused, once it is checked that nothing registered. */
export async function refusedProblems(v: Values): Promise<string[]> {
    const problems = buildProblems(v);
    await settle();
    assert.deepEqual(recorded, [], "nothing may be registered");
    return problems;
}
