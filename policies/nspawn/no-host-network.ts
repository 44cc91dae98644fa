// hearth-nspawn-no-host-network: containers get their own network namespace, never the host's.
import { REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { parseBoolean } from "../systemd/unitfile";
import { installedNspawnFiles, lastValue } from "./files";

/** [Network] settings that each give the container its own namespace. */
const PRIVATE_NET_KEYS = ["Zone", "Bridge", "Interface", "MACVLAN", "IPVLAN"];

export const nspawnNoHostNetwork = hearthPolicy({
    name: "hearth-nspawn-no-host-network",
    description: "A .nspawn file a hearth command installs gives its container a private network (veth, zone, bridge or its own interfaces), never the host's network namespace.",
    enforcementLevel: "mandatory",
    types: [REMOTE_COMMAND_TYPE],
    remediationSteps: "Use a bridge or macvlan network (NspawnContainer's `network`); publish ports instead of sharing the host network.",
    check({ props, report }) {
        for (const f of installedNspawnFiles(props)) {
            const a = f.assignments;
            const priv = lastValue(a, "Network", "Private");
            const veth = lastValue(a, "Network", "VirtualEthernet");
            const ownIfaces = PRIVATE_NET_KEYS.some((k) => (lastValue(a, "Network", k) ?? "") !== "");
            const off = (v: string | undefined) => v !== undefined && parseBoolean(v) === false;
            if (!ownIfaces && (off(priv) || (off(veth) && parseBoolean(priv ?? "") !== true))) {
                report(`${f.path} gives machine '${f.machine}' the host's network (Private=${priv ?? "unset"}, VirtualEthernet=${veth ?? "unset"}).`);
            }
        }
    },
});
