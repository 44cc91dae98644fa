// hearth-nspawn-private-users: containers run with user namespacing (container root is not host root).
import { REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { parseBoolean } from "../systemd/unitfile";
import { installedNspawnFiles, lastValue } from "./files";

export const nspawnPrivateUsers = hearthPolicy({
    name: "hearth-nspawn-private-users",
    description: "A .nspawn file a hearth command installs keeps private users on (PrivateUsers=pick or a range), so root inside the container is an unprivileged user outside.",
    enforcementLevel: "mandatory",
    types: [REMOTE_COMMAND_TYPE],
    remediationSteps: "Leave private users on (NspawnContainer always sets PrivateUsers=pick); a container that truly needs host UIDs needs a waiver with the reason.",
    check({ props, report }) {
        for (const f of installedNspawnFiles(props)) {
            const v = lastValue(f.assignments, "Exec", "PrivateUsers");
            if (v !== undefined && parseBoolean(v) === false) report(`${f.path} sets PrivateUsers=${v}: root in machine '${f.machine}' would be root on the host.`);
        }
    },
});
