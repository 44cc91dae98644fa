// Reads the `hearth:` config namespace from the Pulumi runtime as the site program sees it (CLI or offline plan).
import * as pulumi from "@pulumi/pulumi";
import { RawSiteConfig, SITE_SECTIONS } from "../schema";
import { configKeyIsSecret } from "../sdk";

export const NAMESPACE = "hearth";

/** Every `hearth:` key with its value; structured sections parsed from the JSON the CLI passes them as. */
export function readRawConfig(): RawSiteConfig {
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (!key.startsWith(`${NAMESPACE}:`)) continue;
        const bare = key.slice(NAMESPACE.length + 1);
        values[bare] = bare in SITE_SECTIONS ? parseStructured(value) : value;
    }
    return { values, secretKeys: secretKeysOf(Object.keys(values)) };
}

function parseStructured(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        // A scalar where a list belongs: the schema reports it with the key path.
        return value;
    }
}

/** Which keys were set with `--secret` (undefined when the SDK cannot tell: the check is skipped rather than guessed). */
function secretKeysOf(keys: string[]): ReadonlySet<string> | undefined {
    const known = keys.map((k) => configKeyIsSecret(`${NAMESPACE}:${k}`));
    return known.some((k) => k === undefined) ? undefined : new Set(keys.filter((_, i) => known[i]));
}

/** The secret value of a config key, as a Pulumi secret (never a plain string). */
export function secretValue(key: string): pulumi.Output<string> {
    return new pulumi.Config(NAMESPACE).requireSecret(key);
}
