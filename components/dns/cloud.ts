// The cloud backends: one cloudflare.DnsRecord per record, one aws.route53.Record per RRset; credentials stay in the providers.
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import * as aws from "@pulumi/aws";
import { cloudflareRecord, rdataText, recordResourceSuffix, route53RecordSets } from "./render";
import { ResolvedDnsZone } from "./args";

export interface CloudResult {
    readonly nameservers: pulumi.Output<string[]>;
}

/** Cloudflare: every record its own resource, named by owner, type and a hash of its data, so reordering changes nothing. */
export function cloudflareRecords(name: string, z: ResolvedDnsZone, zoneId: pulumi.Input<string>, parent: pulumi.Resource): CloudResult {
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
