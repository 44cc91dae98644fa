// A hearth site: one pinned host, a sandboxed web service and the site's DNS zone served by that host.
import * as pulumi from "@pulumi/pulumi";
import { DnsZone, Host, SystemdService } from "pulumi-hearth";

const config = new pulumi.Config();

// Every host is pinned by its SSH host key: nothing runs on a host whose key does not match.
const server = new Host({
    name: "server",
    address: config.require("hostAddress"),
    user: config.get("sshUser") ?? "root",
    privateKey: config.requireSecret("sshPrivateKey"),
    hostKey: config.require("hostKey"),
});

// As sandboxed as systemd allows: a dynamic user, a read-only system, reachable from the local network only.
const web = new SystemdService("web", {
    host: server,
    description: "Static site",
    execStart: ["/usr/bin/python3", "-m", "http.server", "8080", "--directory", "/usr/share/doc"],
    network: "local",
    listenPorts: [8080],
    memoryMaxMiB: 128,
});

// The site's internal zone, served by Knot DNS on the host itself.
const zone = new DnsZone("site", {
    zone: config.require("zone"),
    backend: { kind: "host", host: server, nameservers: [{ name: "ns1", addresses: [config.require("hostAddress")] }] },
    records: [{ name: "www", type: "A", value: config.require("hostAddress") }],
});

export const hosts = { server: pulumi.interpolate`${server.user}@${server.address}:${server.port}` };
export const webUnit = web.unitName;
export const nameservers = zone.nameservers;
