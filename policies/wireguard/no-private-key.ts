// hearth-wireguard-no-private-key: WireGuard private keys never appear in a remote command (keys are made on the host and stay there).
import { WG_KEY_TEXT } from "../../components/core/vocab";
import { REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { hearthPolicy } from "../lib/policy";
import { stringsIn } from "../lib/props";

/** A config line or CLI option carrying a literal WireGuard key. */
const KEY_IN_TEXT = [
    new RegExp(String.raw`^\s*PrivateKey\s*=\s*${WG_KEY_TEXT}\s*$`, "m"),
    new RegExp(String.raw`\bprivate-key\s+(?:<\(\s*(?:echo|printf\s+%s)\s+)?['"]?${WG_KEY_TEXT}`),
    new RegExp(String.raw`\b(?:echo|printf\s+%s)\s+['"]?${WG_KEY_TEXT}['"]?\s*\|\s*wg\s+pubkey\b`),
];

export const wireguardNoPrivateKey = hearthPolicy({
    name: "hearth-wireguard-no-private-key",
    description: "No WireGuard private key appears in a remote command's text or stdin: keys are generated on the host that uses them and only public halves leave it (WireguardLink records no key at all).",
    enforcementLevel: "mandatory",
    types: [REMOTE_COMMAND_TYPE],
    remediationSteps: "Let WireguardLink generate the key on the host; pass only public keys between sites.",
    check({ props, report }) {
        // The SSH connection's own key is not WireGuard material.
        for (const { path, value } of stringsIn(props, ["connection"])) {
            if (KEY_IN_TEXT.some((re) => re.test(value))) report(`'${path}' contains a literal WireGuard private key.`);
        }
    },
});
