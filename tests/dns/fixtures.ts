// Shared dns fixtures: an internal zone with every record type, a delegation and a service, and its rendered zone file.
import * as pulumi from "@pulumi/pulumi";
import { DnsZoneArgs, resolveDnsZoneArgs } from "../../components/dns";
import { renderZoneFile } from "../../components/dns/render";
import { Host } from "../../components/host";
import { TEST_HOST_KEY } from "../mocks";

const host = new Host({ name: "ns", address: "10.0.0.2", privateKey: pulumi.secret("test-key"), hostKey: TEST_HOST_KEY });
export const LONG_TXT = `v=DKIM1; k=rsa; p=${"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA".repeat(7)}; n="quoted \\ note"`;

export function homeZone(records: DnsZoneArgs["records"] = RECORDS): DnsZoneArgs {
    return {
        zone: "home.example.org",
        backend: { kind: "host", host, nameservers: [{ name: "ns1", addresses: ["10.0.0.2", "fd00::2"] }, { name: "ns.example.net." }] },
        records,
        delegations: [{ zone: "lab.home.example.org", nameservers: [{ name: "ns1.lab.home.example.org", addresses: ["10.0.1.2"] }, { name: "ns.example.net" }] }],
    };
}

export const RECORDS: DnsZoneArgs["records"] = [
    { name: "@", type: "A", value: "10.0.0.10" },
    { name: "@", type: "AAAA", value: "fd00::10" },
    { name: "@", type: "MX", priority: 10, exchange: "mail.home.example.org" },
    { name: "mail", type: "A", value: "10.0.0.11" },
    { name: "@", type: "TXT", value: "v=spf1 mx -all" },
    { name: "sel._domainkey", type: "TXT", value: LONG_TXT },
    { name: "www", type: "CNAME", value: "home.example.org" },
    { name: "_imaps._tcp", type: "SRV", priority: 0, weight: 1, port: 993, target: "mail.home.example.org" },
    { name: "_ftp._tcp", type: "SRV", priority: 0, weight: 0, port: 0, target: "." },
    { name: "nomail", type: "MX", priority: 0, exchange: "." },
    { name: "nomail", type: "A", value: "10.0.0.12", ttl: 3600 },
    { name: "@", type: "CAA", tag: "issue", value: "letsencrypt.org" },
    { name: "@", type: "CAA", flags: 128, tag: "iodef", value: "mailto:security@example.org" },
    { service: { hostname: "git", addresses: ["10.0.0.5", "fd00:0:0:0::5"] } },
];

export function zoneFileOf(args: DnsZoneArgs): { text: string; serial: number } {
    const z = resolveDnsZoneArgs(args);
    if (z.backend.kind !== "host") throw new Error("host zone expected");
    return renderZoneFile({ zone: z.zone, ttl: z.ttl, hostmaster: z.backend.hostmaster, nameservers: z.backend.nameservers.map((n) => n.name), records: z.records });
}

