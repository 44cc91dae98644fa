// The cloud backends: one cloudflare.DnsRecord per record, one aws.route53.Record per RRset; credentials stay in the providers.
import * as pulumi from "@pulumi/pulumi";
import type * as CloudflareSdk from "@pulumi/cloudflare";
import type * as AwsSdk from "@pulumi/aws";
import { cloudflareRecord, rdataText, recordResourceSuffix, route53RecordSets } from "./render";
import { ResolvedDnsZone } from "./args";

export interface CloudResult {
    readonly nameservers: pulumi.Output<string[]>;
}

/**
 * The providers' SDKs are optional peer dependencies: a site without a cloud zone installs neither (nor their
 * plugins), so each is loaded only when a zone uses it.
 */
function providerSdk<T>(pkg: "@pulumi/cloudflare" | "@pulumi/aws", backend: string, zone: string, parent: pulumi.Resource): T {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require(pkg) as T;
    } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code !== "MODULE_NOT_FOUND" || !err.message.includes(`'${pkg}'`)) throw e;
        throw new pulumi.ResourceError(`The 'backend' argument of zone '${zone}' is '${backend}', which needs the ${pkg} package: install it beside pulumi-hearth (npm install ${pkg}).`, parent);
    }
}

/** Cloudflare: every record its own resource, named by owner, type and a hash of its data, so reordering changes nothing. */
export function cloudflareRecords(name: string, z: ResolvedDnsZone, zoneId: pulumi.Input<string>, parent: pulumi.Resource): CloudResult {
    const cloudflare = providerSdk<typeof CloudflareSdk>("@pulumi/cloudflare", "cloudflare", z.zone, parent);
    for (const r of z.records) {
        const spec = cloudflareRecord(r, z.zone);
        new cloudflare.DnsRecord(
            `${name}-${recordResourceSuffix(r, rdataText(r))}`,
            {
                zoneId,
                name: spec.name,
                type: spec.type,
                ttl: spec.ttl,
                proxied: spec.proxied,
                ...(spec.content !== undefined ? { content: spec.content } : {}),
                ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
                ...(spec.data !== undefined ? { data: spec.data } : {}),
                comment: "managed by hearth",
            },
            { parent },
        );
    }
    const zoneInfo = cloudflare.getZoneOutput({ zoneId }, { parent });
    return { nameservers: zoneInfo.apply((info) => [...(info.nameServers ?? [])].sort()) };
}

/** Route53: one Record per name and type (an RRset), in a zone given by id or looked up by name. */
export function route53Records(name: string, z: ResolvedDnsZone, backend: { zoneId?: pulumi.Input<string>; privateZone: boolean }, parent: pulumi.Resource): CloudResult {
    const aws = providerSdk<typeof AwsSdk>("@pulumi/aws", "route53", z.zone, parent);
    const info = backend.zoneId !== undefined
        ? aws.route53.getZoneOutput({ zoneId: backend.zoneId }, { parent })
        : aws.route53.getZoneOutput({ name: z.zone, privateZone: backend.privateZone }, { parent });
    const zoneId = backend.zoneId ?? info.zoneId;
    for (const set of route53RecordSets(z.records, z.zone)) {
        new aws.route53.Record(
            `${name}-${recordResourceSuffix({ owner: set.name === z.zone ? "@" : set.name.slice(0, -(z.zone.length + 1)), type: set.type })}`,
            { zoneId, name: set.name, type: set.type, ttl: set.ttl, records: [...set.records] },
            { parent },
        );
    }
    return { nameservers: info.apply((i) => [...(i.nameServers ?? [])].sort()) };
}
