// hearth-nspawn-no-host-network: containers get their own network namespace, never the host's.
import { CONTAINER_TYPE, REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { falsy, truthy } from "../lib/props";
import { installedNspawnFiles, lastValue } from "./files";

/** [Network] settings that each give the container its own namespace. */
const PRIVATE_NET_KEYS = ["Zone", "Bridge", "Interface", "MACVLAN", "IPVLAN"];

export const nspawnNoHostNetwork = hearthPolicy({
    name: "hearth-nspawn-no-host-network",
    description: "An nspawn container has a private network (veth, zone, bridge or its own interfaces), never the host's network namespace.",
    enforcementLevel: "mandatory",
    types: [CONTAINER_TYPE, REMOTE_COMMAND_TYPE],
    remediationSteps: "Use the default private network (a veth pair) or a zone/bridge; publish ports instead of sharing the host network.",
    check({ type, props, report }) {
        if (type === CONTAINER_TYPE) {
            const net = props.network;
            if (net === "host" || (net && typeof net === "object" && (net.host === true || net.mode === "host")) || truthy(props.hostNetwork) || falsy(props.privateNetwork)) {
                report(`The container shares the host's network namespace (${JSON.stringify({ network: net, hostNetwork: props.hostNetwork, privateNetwork: props.privateNetwork })}).`);
            }
            return;
        }
        for (const f of installedNspawnFiles(props)) {
            const a = f.assignments;
            const priv = lastValue(a, "Network", "Private");
            const veth = lastValue(a, "Network", "VirtualEthernet");
            const ownIfaces = PRIVATE_NET_KEYS.some((k) => (lastValue(a, "Network", k) ?? "") !== "");
            if ((priv !== undefined && falsy(priv) && !ownIfaces) || (veth !== undefined && falsy(veth) && !truthy(priv) && !ownIfaces)) {
                report(`${f.path} gives machine '${f.machine}' the host's network (Private=${priv ?? "unset"}, VirtualEthernet=${veth ?? "unset"}).`);
            }
        }
    },
});
