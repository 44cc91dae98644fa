// hearth-wireguard-no-private-key: WireGuard private keys never appear in inputs (they are made on the host and stay there).
import { REMOTE_COMMAND_TYPE, WIREGUARD_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { keysIn, stringsIn } from "../lib/props";

/** A config line or CLI option carrying a literal WireGuard key. */
const KEY_IN_TEXT = [
    /^\s*PrivateKey\s*=\s*[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\s*$/m,
    /\bprivate-key\s+(?:<\(\s*(?:echo|printf\s+%s)\s+)?['"]?[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=/,
    /\b(?:echo|printf\s+%s)\s+['"]?[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=['"]?\s*\|\s*wg\s+pubkey\b/,
];

export const wireguardNoPrivateKey = hearthPolicy({
    name: "hearth-wireguard-no-private-key",
    description: "No WireGuard private key appears in a WireguardLink's inputs or in a remote command's text or stdin: keys are generated on the host that uses them and only public halves leave it.",
    enforcementLevel: "mandatory",
    types: [WIREGUARD_TYPE, REMOTE_COMMAND_TYPE],
    remediationSteps: "Let WireguardLink generate the key on the host; pass only public keys between sites.",
    check({ type, props, report }) {
        if (type === WIREGUARD_TYPE) {
            for (const { path, value } of keysIn(props, /^private[-_]?key$/i)) {
                if (value !== undefined && value !== null && value !== "") report(`'${path}' carries a private key; WireGuard private keys must stay on their host.`);
            }
        }
        // The SSH connection's own key is not WireGuard material.
        for (const { path, value } of stringsIn(props, ["connection"])) {
            if (KEY_IN_TEXT.some((re) => re.test(value))) report(`'${path}' contains a literal WireGuard private key.`);
        }
    },
});
