// The site program's body: validated config in, hearth components out. Everything is checked before the first resource.
import * as pulumi from "@pulumi/pulumi";
import { SiteConfig } from "./schema";
import { ProblemCollector } from "./config/remap";
import { buildHosts, hostAddresses, SecretSource } from "./build/hosts";
import { createServices, planServices } from "./build/services";

export interface SiteOutputs {
    /** Host name → `user@address:port`. */
    readonly hosts: Record<string, string>;
    /** Service name → the unit hearth manages. */
    readonly services: Record<string, pulumi.Output<string>>;
}

export function buildSite(site: SiteConfig, secret: SecretSource): SiteOutputs {
    const problems = new ProblemCollector();
    const hosts = buildHosts(site.hosts, secret, problems);
    const services = planServices(site.services ?? [], hosts, secret, problems);
    problems.throwIfAny();

    const created = createServices(services);
    return {
        hosts: hostAddresses(site.hosts),
        services: Object.fromEntries([...created].map(([name, svc]) => [name, svc.unitName])),
    };
}
