// hearth-nspawn-private-users: containers run with user namespacing (container root is not host root).
import { CONTAINER_TYPE, REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { falsy } from "../lib/props";
import { installedNspawnFiles, lastValue } from "./files";

export const nspawnPrivateUsers = hearthPolicy({
    name: "hearth-nspawn-private-users",
    description: "An nspawn container keeps private users on (PrivateUsers=pick or a range), so root inside it is an unprivileged user outside.",
    enforcementLevel: "mandatory",
    types: [CONTAINER_TYPE, REMOTE_COMMAND_TYPE],
    remediationSteps: "Leave `privateUsers` at its default; a container that truly needs host UIDs needs a waiver with the reason.",
    check({ type, props, report }) {
        if (type === CONTAINER_TYPE) {
            if (falsy(props.privateUsers)) report(`The container turns private users off ('privateUsers' is ${JSON.stringify(props.privateUsers)}): root in the container would be root on the host.`);
            return;
        }
        for (const f of installedNspawnFiles(props)) {
            const v = lastValue(f.assignments, "Exec", "PrivateUsers");
            if (v !== undefined && falsy(v)) report(`${f.path} sets PrivateUsers=${v}: root in machine '${f.machine}' would be root on the host.`);
        }
    },
});
