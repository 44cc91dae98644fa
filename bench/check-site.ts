// The converge benchmark's site as a Pulumi program the drift check evaluates (`siteConverges`, as `npm run check` does).
//
// bench/check.ts writes a site directory whose Pulumi.yaml names this file and whose `Pulumi.bench.yaml` holds
// `hearth:benchSite` (the hosts, the service count, the database client) and `hearth:sshPrivateKey` as a `secure:`
// value, which the offline evaluation replaces by a placeholder: the check never needs the key inside the program.
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../components/host";
import { declareSite, SiteChanges } from "./site";

export interface BenchSiteConfig {
    readonly hosts: readonly { readonly name: string; readonly address: string; readonly hostKey: string }[];
    readonly services: number;
    readonly dbClient: string;
    readonly changes?: SiteChanges;
}

const config = new pulumi.Config("hearth");
const site = config.requireObject<BenchSiteConfig>("benchSite");
const privateKey = config.requireSecret("sshPrivateKey");
const declared = site.hosts.map((h) => new Host({ name: h.name, address: h.address, hostKey: h.hostKey, privateKey, facts: { zfs: true } }));
declareSite({ hosts: declared, services: site.services, dbClient: site.dbClient, changes: site.changes });

/** Each host's `user@address:port` by its name, as a site's `hosts` output gives it: the report names hosts by it. */
export const hosts: Record<string, string> = Object.fromEntries(site.hosts.map((h) => [h.name, `root@${h.address}:22`]));
