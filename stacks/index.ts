// The site program (Pulumi.yaml `main`): reads the `hearth:` config of the selected stack, validates it and builds the site.
import { parseSiteConfig } from "./schema";
import { readRawConfig, secretValue } from "./config/read";
import { buildSite } from "./site";

const outputs = buildSite(parseSiteConfig(readRawConfig()), { secret: secretValue });

export const hosts = outputs.hosts;
export const services = outputs.services;
export const datasets = outputs.datasets;
export const databases = outputs.databases;
export const wireguard = outputs.wireguard;
export const zones = outputs.zones;
