// hearth-command-no-secrets: no secret-looking material in a remote command's create/update/delete text (stored and shown in clear).
import { REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { commandTexts, installedFiles, unwrapCommand } from "../lib/commands";
import { hearthPolicy } from "../lib/policy";
import { findSecrets } from "../lib/secrets";

export const commandNoSecrets = hearthPolicy({
    name: "hearth-command-no-secrets",
    description: "A remote command's create/update/delete text, and the files it installs from plain stdin frames, hold no private-key block, PASSWORD=-style assignment, password option or connection URI with a password: that text is stored in state and printed in diffs. Secret frames (credentials) are not read.",
    enforcementLevel: "mandatory",
    types: [REMOTE_COMMAND_TYPE],
    remediationSteps: "Pass secrets as Pulumi secrets over stdin (Script.secretToFile) and read them from the file on the host.",
    check({ props, report }) {
        for (const { field, text } of commandTexts(props)) {
            const script = unwrapCommand(text);
            const seen = new Set<string>();
            for (const f of findSecrets(script)) {
                const key = `${f.kind}|${f.excerpt}`;
                if (seen.has(key)) continue;
                seen.add(key);
                report(`The '${field}' command text contains a ${f.kind} (${f.excerpt}); secrets must travel over stdin as Pulumi secrets, never in command text.`);
            }
        }
        // File bodies share stdin with secret frames but are plain data: a unit's Environment= ends up in state as it is.
        for (const file of installedFiles(props)) {
            for (const f of findSecrets(file.content)) {
                report(`${file.path} (installed by this command) contains a ${f.kind} (${f.excerpt}); put the secret in a credential (LoadCredential=), not in the file.`);
            }
        }
    },
});
