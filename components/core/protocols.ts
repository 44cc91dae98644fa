// The stdout protocols: the lines a converge script prints for its component to read back (the public half of a key
// generated on the host, a dataset's mountpoint). Each is defined once here: the renderer emits it, the wiring parses
// it, and the offline plan recognises and simulates it. Pure: no @pulumi import.
import { WG_KEY_TEXT } from "./vocab";

/** One line a script prints on stdout: `<marker><value>`. */
export interface StdoutProtocol {
    /** The text that starts the line on stdout. */
    readonly marker: string;
    /** The bash command that prints the line; `word` is the value as the script has it (a quoted shell word or expansion). */
    emit(word: string): string;
    /** The value a script printed, or undefined when it printed none or a malformed one. */
    parse(stdout: string | undefined): string | undefined;
    /** The line as a host would print it for `value` (the offline plan and mocks print it without a host). */
    line(value: string): string;
    /** Whether a script prints this line: its text, bare or quoted into a command (`bash -c '…'`), names the protocol. */
    printedBy(script: string): boolean;
}

/**
 * `value` is the pattern text of a printed value; `emitPrefix` + word + `emitSuffix` is the bash that prints the line;
 * `signature` is text of that bash that survives the script being single-quoted into a command (no `'` in it).
 */
function protocol(marker: string, value: string, emitPrefix: string, signature: string, emitSuffix = ""): StdoutProtocol {
    const pattern = new RegExp(`^${marker.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(${value})$`, "m");
    return {
        marker,
        emit: (word) => `${emitPrefix}${word}${emitSuffix}`,
        parse: (stdout) => pattern.exec(stdout ?? "")?.[1],
        line: (v) => `${marker}${v}`,
        printedBy: (script) => script.includes(signature),
    };
}

/** A WireGuard interface's public key, printed by its key script: `hearth-wg-public-key: <base64 of 32 bytes>` (vocab's WG_KEY_TEXT). */
export const WG_PUBLIC_KEY = protocol("hearth-wg-public-key: ", WG_KEY_TEXT, "printf 'hearth-wg-public-key: %s\\n' ", "hearth-wg-public-key: ");

/** A container's SSH host key, printed by its converge script: `hearth-nspawn-hostkey: ssh-ed25519 <base64>`. */
export const NSPAWN_HOST_KEY = protocol("hearth-nspawn-hostkey: ", "ssh-ed25519 [A-Za-z0-9+/]+={0,2}", "printf 'hearth-nspawn-hostkey: %s\\n' ", "hearth-nspawn-hostkey: ");

/**
 * A dataset's mountpoint, reported by its converge script through `hearth_say` (which prefixes `hearth: `):
 * `hearth: mountpoint=<path or none or legacy>`. `emit` takes the expansion that yields the mountpoint.
 */
export const ZFS_MOUNTPOINT = protocol("hearth: mountpoint=", ".+", 'hearth_say "mountpoint=', 'hearth_say "mountpoint=', '"');
