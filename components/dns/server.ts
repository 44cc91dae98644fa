// The host backend: renders the zone once every address is known and converges Knot DNS on the host in one remote command.
import * as pulumi from "@pulumi/pulumi";
import { declaredUnder } from "../core/owner";
import * as command from "@pulumi/command";
import { SystemdService, SystemdServiceArgs } from "../systemd";
import { remoteScript } from "../host";
import { OwnerMark } from "../ownership";
import { contentHash, frameStdin } from "../shell";
import { parseArgs } from "../core/schema";
import { check } from "../validate";
import { KNOTD, renderServerCheck, renderServerDeleteScript, renderServerScript, serverFiles, serverLayout } from "./knot";
import { lateRecords, ResolvedDnsZone } from "./model";
import { renderZoneFile } from "./render";
import { recordAddress } from "./schema";
import { ZoneRecord } from "./types";

type HostBackend = Extract<ResolvedDnsZone["backend"], { kind: "host" }>;

/** Every record of the zone, once the pending service addresses resolve; re-checked as a whole. */
export function zoneRecords(z: ResolvedDnsZone): pulumi.Output<ZoneRecord[]> {
    // Each late address meets the schema's address rule, then the zone is checked as a whole again.
    const address = recordAddress();
    return pulumi.all(z.pending.map((p) => pulumi.output(p.addresses))).apply((lists) =>
        check(() => lateRecords(z, lists, (path, a) => parseArgs(address, a, path))));
}

/** The zone file text and its serial, as an Output (known at once when no record waits on an Output). */
export function renderHostZone(z: ResolvedDnsZone, backend: HostBackend): pulumi.Output<{ text: string; serial: number }> {
    return zoneRecords(z).apply((records) =>
        renderZoneFile({ zone: z.zone, ttl: z.ttl, hostmaster: backend.hostmaster, nameservers: backend.nameservers.map((n) => n.name), records }));
}

/** The knotd unit's arguments (checked with the zone's, before anything registers). */
export function knotServiceArgs(z: ResolvedDnsZone, backend: HostBackend): SystemdServiceArgs {
    const layout = serverLayout(z.zone);
    return {
        host: backend.host,
        unitName: layout.id,
        description: `hearth authoritative DNS for ${z.zone} (Knot DNS)`,
        execStart: [KNOTD, "-c", layout.conf],
        stateDirectory: layout.id,
        runtimeDirectory: layout.id,
        network: z.public ? "internet" : "local",
        listenPorts: [backend.port],
        restart: "on-failure",
        // The zone's command writes the config after the unit exists; until then a start is skipped, not failed.
        startWhenExists: layout.conf,
    };
}

/**
 * knotd as a SystemdService (a dynamic user with only CAP_NET_BIND_SERVICE, answering only site-local clients
 * unless the zone is public), then the zone's files and the reload in one remote command.
 */
export function hostServer(name: string, z: ResolvedDnsZone, backend: HostBackend, parent: pulumi.Resource, mark: OwnerMark, serviceAliases: pulumi.Alias[] = []): { files: command.remote.Command; service: SystemdService } {
    const layout = serverLayout(z.zone);
    const files = (zoneText: string) => serverFiles(layout, backend.listen, backend.port, zoneText, mark);
    const statics = files("");
    // The script text does not depend on file bodies (they travel on stdin), so it is rendered once, up front.
    const { script } = renderServerScript(layout, statics, mark);
    const zone = renderHostZone(z, backend);
    const stdin = zone.apply((zf) => frameStdin(renderServerScript(layout, files(zf.text), mark).installed.map((f) => f.content)));
    // The unit first: a config change that needs a new unit (a port) then restarts knotd under the unit that allows
    // it. On a first deploy the unit's condition skips the start until this config exists; the zone script then
    // starts knotd and waits for the serial.
    const service = declaredUnder(["backend"], () => new SystemdService(`${name}-knot`, knotServiceArgs(z, backend), { parent, aliases: serviceAliases }));
    // remoteScript keeps the delete on a lifecycle command no update can run; the zone itself travels on stdin, so
    // a record change is an in-place update of this one command.
    const filesCmd = remoteScript(
        `${name}-zone`,
        {
            host: backend.host,
            script,
            stdin,
            deleteScript: renderServerDeleteScript(layout, mark),
            hash: contentHash(script, statics.knotConf, statics.checkConf),
            check: renderServerCheck(layout),
        },
        { parent, dependsOn: [service] },
    ).converge;
    return { files: filesCmd, service };
}
