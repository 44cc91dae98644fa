// hearth-command-host-key-pinned: every remote command (and its jump host) pins the SSH host key it expects.
import { REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";

const HOST_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( .*)?$/;

export const commandHostKeyPinned = hearthPolicy({
    name: "hearth-command-host-key-pinned",
    description: "Remote commands pin the host's SSH public key (`hostKey`), and their jump host's, so a swapped or spoofed host is refused.",
    enforcementLevel: "advisory",
    types: [REMOTE_COMMAND_TYPE],
    remediationSteps: "Set `hostKey` on the Host (and on its proxy) to the line from /etc/ssh/ssh_host_ed25519_key.pub.",
    check({ props, report }) {
        const conn = props.connection ?? {};
        const check = (hostKey: unknown, where: string, host: unknown) => {
            if (hostKey === undefined || hostKey === null || hostKey === "") {
                report(`The ${where} ${JSON.stringify(host ?? "?")} is not pinned: 'hostKey' is not set, so any key the host presents is accepted.`);
            } else if (typeof hostKey !== "string" || !HOST_KEY.test(hostKey.trim())) {
                report(`The ${where} ${JSON.stringify(host ?? "?")} has a 'hostKey' that is not an SSH public key line ("<type> <base64>").`);
            }
        };
        check(conn.hostKey, "host", conn.host);
        if (conn.proxy) check(conn.proxy.hostKey, "jump host", conn.proxy.host);
    },
});
