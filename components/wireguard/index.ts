// WireguardLink: a site-to-site or hub-and-peers WireGuard tunnel whose private keys are made on, and never leave, each host.
import type { LinkProps } from "../core/props";
import { rehearsalPoint } from "../core/owner";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as command from "@pulumi/command";
import { remoteScript } from "../host";
import { OwnerMark, claimOnHost, listenOnHost, ownerMark } from "../ownership";
import { check } from "../validate";
import { WG_PUBLIC_KEY } from "../core/protocols";
import { argName } from "../core/errors";
import { parseArgs } from "../core/schema";
import { isWgKey } from "../core/vocab";
import { contentHash, frameStdin } from "../shell";
import { WIREGUARD_TYPE } from "../tokens";
import { ResolvedLink, ResolvedSide, allowedIpsFor, resolveWireguardLinkArgs } from "./args";
import { WgInterface, renderCheck, renderConverge, renderDeleteScript, renderKeyDeleteScript, renderKeyScript } from "./render";
import { WireguardLinkArgs, wgEndpoint, wgPublicKey } from "./schema";

export { resolveWireguardLinkArgs };
export {
    checkWireguardLink,
    wgEndpoint,
    wgPeerList,
    wgPublicKey,
    WireguardLinkArgsSchema,
    wireguardLinkShape,
    WireguardSideSchema,
    wireguardSideShape,
} from "./schema";
export type { WireguardLinkArgs, WireguardLinkView, WireguardSideArgs, WireguardSideView } from "./schema";

/** A syntactically valid stand-in key: the converge script text must not depend on real keys, so it is rendered with this. */
const SHAPE_KEY = "A".repeat(43) + "=";

/** The interface one managed side gets, once every peer's public key and endpoint is known. */
function sideInterface(link: ResolvedLink, linkName: string, self: ResolvedSide, keys: Record<string, string | undefined>, endpoints: Record<string, string | undefined>, mark: OwnerMark): WgInterface {
    const others = self.role === "hub" ? link.peers : [link.hub];
    return {
        link: linkName,
        side: self.name,
        interfaceName: link.interfaceName,
        addresses: self.addresses,
        listenPort: self.listenPort,
        mtu: link.mtu,
        keyVersion: link.keyVersion,
        mark,
        peers: others.map((o) => ({
            name: o.name,
            publicKey: keys[o.name],
            endpoint: endpoints[o.name],
            allowedIps: allowedIpsFor(link, self, o),
            keepaliveSec: link.keepaliveSec,
            presharedKey: link.presharedKey !== "none",
        })),
    };
}

export class WireguardLink extends pulumi.ComponentResource {
    readonly interfaceName: string;
    /** The tunnel network (IPv6 /64). */
    readonly network: string;
    /** Side name -> its tunnel addresses (`addr/len`), known before anything runs. */
    readonly addresses: Readonly<Record<string, readonly string[]>>;
    /** Side name -> public key: generated on the host for managed sides, as given for the others. */
    readonly publicKeys: pulumi.Output<Record<string, string>>;
    /** The commands that bring each managed side's interface up, by side name; depend on them to use the tunnel. */
    readonly interfaces: Readonly<Record<string, command.remote.Command>>;

    constructor(name: string, args: WireguardLinkArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const link = check(() => resolveWireguardLinkArgs(args));
        const sides = [link.hub, ...link.peers];
        const mark = ownerMark(WIREGUARD_TYPE, name, opts, link.adopt);
        // One resource per interface on a host: a second claimant is refused before anything runs.
        for (const s of sides) if (s.host) claimOnHost(s.host, `wireguard interface ${link.interfaceName}`, mark, "interfaceName", link.interfaceName);
        // Each managed side's UDP port, on every address of its host, in the host's listener registry. A side with an
        // endpoint is dialled by peers from wherever they are; one without only answers the peers it dialled itself.
        for (const s of sides) {
            if (!s.host) continue;
            const listener = { protocol: "udp", port: s.listenPort, listener: `wireguard ${link.interfaceName}`, scope: s.endpoint === undefined ? "local" : "internet" } as const;
            listenOnHost(s.host, listener, mark, argName([...s.path, "listenPort"]), s.listenPort);
        }
        rehearsalPoint();
        super(WIREGUARD_TYPE, name, {
            interfaceName: link.interfaceName,
            network: link.network,
            mtu: link.mtu,
            keepaliveSec: link.keepaliveSec,
            keyVersion: link.keyVersion,
            presharedKey: typeof link.presharedKey === "string" ? link.presharedKey : "given",
            // An endpoint given as an Output is recorded once it resolves (a string, as LinkProps says).
            sides: sides.map((s) => ({ name: s.name, role: s.role, host: s.host?.name, endpoint: s.endpoint as string | undefined, listenPort: s.listenPort, subnets: s.subnets, addresses: s.addresses })),
        } satisfies LinkProps, opts);
        this.interfaceName = link.interfaceName;
        this.network = link.network;
        this.addresses = Object.fromEntries(sides.map((s) => [s.name, s.addresses]));

        const keys: Record<string, pulumi.Output<string | undefined>> = {};
        const keyLifecycles: Record<string, pulumi.Resource> = {};
        for (const s of sides) {
            if (s.host) {
                const script = renderKeyScript(link.interfaceName, link.keyVersion, mark, name, s.name).render();
                const key = remoteScript(`${name}-${s.name}-key`, {
                    host: s.host,
                    script,
                    deleteScript: renderKeyDeleteScript(link.interfaceName, mark, name, s.name).render(),
                    hash: contentHash(script),
                }, { parent: this });
                keyLifecycles[s.name] = key.lifecycle!;
                const cmd = key.converge;
                keys[s.name] = cmd.stdout.apply((out) => {
                    const k = WG_PUBLIC_KEY.parse(out);
                    if (!k) throw new pulumi.ResourceError(`WireGuard key step on ${s.host!.name} printed no public key (stdout: ${JSON.stringify(out.slice(0, 200))}).`, this);
                    return k;
                });
            } else {
                // A key another stack exports is undefined until that stack's first `up` (two sites that refer to each
                // other cannot both go first): the peer is pending, left out of the config, and added by the next `up`.
                keys[s.name] = pulumi.output(s.publicKey!).apply((k) => {
                    if (k === undefined) {
                        pulumi.log.warn(`WireGuard peer '${s.name}' has no public key yet (its stack has not exported one): the tunnel is configured without it; run 'pulumi up' again once it has.`, this);
                        return undefined;
                    }
                    return check(() => parseArgs(wgPublicKey(), k, [...s.path, "publicKey"]), this);
                });
            }
        }
        const endpoints = pulumi.all(
            Object.fromEntries(sides.map((s) => [s.name, pulumi.output(s.endpoint).apply((e) => (e === undefined || e === "" ? undefined : check(() => parseArgs(wgEndpoint(), e, [...s.path, "endpoint"]), this)))])),
        );
        const allKeys = pulumi.all(keys);

        const psks: Record<string, pulumi.Output<string>> = {};
        if (link.presharedKey === "random") {
            for (const p of link.peers) {
                psks[p.name] = pulumi.secret(new random.RandomBytes(`${name}-psk-${p.name}`, { length: 32 }, { parent: this }).base64);
            }
        } else if (link.presharedKey !== "none") {
            const given = pulumi.secret(link.presharedKey).apply((k) => {
                // Never echo the value: it is a secret.
                if (!isWgKey(k)) throw new pulumi.ResourceError("The 'presharedKey' argument (value hidden) is not allowed: expected 32 bytes in base64 (44 characters, as `wg genpsk` prints).", this);
                return k;
            });
            for (const p of link.peers) psks[p.name] = given;
        }

        const interfaces: Record<string, command.remote.Command> = {};
        for (const s of sides.filter((x) => x.host)) {
            const shapeKeys = Object.fromEntries(sides.map((x) => [x.name, SHAPE_KEY]));
            const shape = renderConverge(sideInterface(link, name, s, shapeKeys, {}, mark));
            const pairPsks = shape.pskPeers.map((p) => psks[s.role === "hub" ? p : s.name]);
            const stdin = pulumi.all([allKeys, endpoints, pulumi.all(pairPsks)]).apply(([k, e, secrets]) => {
                const r = renderConverge(sideInterface(link, name, s, k, e, mark));
                if (r.script !== shape.script) throw new Error("hearth bug: WireGuard converge script depends on peer keys");
                return frameStdin([...r.files.map((f) => f.content), ...secrets]);
            });
            interfaces[s.name] = remoteScript(`${name}-${s.name}-interface`, {
                host: s.host!,
                script: shape.script,
                deleteScript: renderDeleteScript(sideInterface(link, name, s, shapeKeys, {}, mark)).render(),
                stdin: pairPsks.length ? pulumi.secret(stdin) : stdin,
                // Peer keys and endpoints travel in stdin, so a change there is an update of this same script.
                hash: contentHash(shape.script),
                // The interface goes down before its key is removed.
                deleteBefore: [keyLifecycles[s.name]],
                check: renderCheck(link),
            }, { parent: this }).converge;
        }
        this.interfaces = interfaces;
        // Pending peers have no key to show.
        this.publicKeys = allKeys.apply((k) => Object.fromEntries(Object.entries(k).filter((e): e is [string, string] => e[1] !== undefined)));
        this.registerOutputs({ publicKeys: this.publicKeys, network: this.network, addresses: this.addresses });
    }

    /** One side's public key, e.g. to `export` for the other site's StackReference. */
    publicKey(side: string): pulumi.Output<string> {
        return this.publicKeys.apply((k) => {
            if (!(side in k)) throw new pulumi.ResourceError(`The 'side' argument ${JSON.stringify(side)} is not a side of this link: expected one of ${JSON.stringify(Object.keys(k))}.`, this);
            return k[side];
        });
    }
}
