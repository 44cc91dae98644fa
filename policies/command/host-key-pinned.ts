// hearth-command-host-key-pinned: every remote command (and its jump host) pins the SSH host key it expects.
import { ArgumentError } from "../../components/core/errors";
import { parseSshPublicKey } from "../../components/core/sshkey";
import { REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";

export const commandHostKeyPinned = hearthPolicy({
    name: "hearth-command-host-key-pinned",
    description:
        "Remote commands pin the host's SSH public key (`hostKey`), and their jump host's, so a swapped or spoofed host is refused: an unpinned connection hands every stdin secret to whoever answers and trusts its stdout.",
    enforcementLevel: "mandatory",
    types: [REMOTE_COMMAND_TYPE],
    remediationSteps:
        "Set `hostKey` on the Host (and on its proxy) to the host's /etc/ssh/ssh_host_ed25519_key.pub, or to a line of `ssh-keyscan -t ed25519 <address>` without the host name, checked against the host.",
    check({ props, report }) {
        const conn = props.connection ?? {};
        const check = (hostKey: unknown, arg: string, where: string, host: unknown) => {
            if (hostKey === undefined || hostKey === null || hostKey === "") {
                report(`The ${where} ${JSON.stringify(host ?? "?")} is not pinned: 'hostKey' is not set, so any key the host presents is accepted.`);
                return;
            }
            try {
                parseSshPublicKey(arg, hostKey);
            } catch (e) {
                if (!(e instanceof ArgumentError)) throw e;
                report(`The ${where} ${JSON.stringify(host ?? "?")} has a 'hostKey' that is not an SSH public key: ${e.message}`);
            }
        };
        check(conn.hostKey, "connection.hostKey", "host", conn.host);
        if (conn.proxy) check(conn.proxy.hostKey, "connection.proxy.hostKey", "jump host", conn.proxy.host);
    },
});
