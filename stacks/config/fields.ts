// Leaf validators of the site config: each carries the one sentence that says what is allowed, which every error repeats.
import { z } from "zod";
import { ArgumentError, rules } from "../../components";
import { parseSshPublicKey, SSH_HOST_KEY_HINT } from "../../components/core/sshkey";

const { say } = rules;
export const { int, pattern, oneOf, bool, list, record, dict, port, reason } = rules;

export const { LABEL, label } = rules;

/** A Pulumi config key name in this project's namespace that holds a secret. */
export const SECRET_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;
export const secretKey = () => pattern(SECRET_KEY, "the name of a secret config key in the hearth namespace (letters, digits, '_', '.', '-'; set with `pulumi config set --secret`)");

/** A hostname or an IPv4/IPv6 literal (what sshd or a DNS record points at). */
const IPV4 = String.raw`(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}`;
export const IPV4_RE = new RegExp(`^${IPV4}$`);
export const IPV6_RE = /^(?=.*:)[0-9a-fA-F:]{2,39}(?<!:::.*)$/;
export const HOSTNAME_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
export const address = () =>
    z.string(say("an IPv4 address, an IPv6 address or a lowercase DNS name")).refine(
        (a) => IPV4_RE.test(a) || (IPV6_RE.test(a) && a.split("::").length <= 2) || (HOSTNAME_RE.test(a) && !/^\d+(\.\d+)*$/.test(a)),
        say("an IPv4 address, an IPv6 address or a lowercase DNS name"),
    );

/**
 * A host's OpenSSH public key line, `<type> <base64> [comment]`, checked by the same parser as Host (the base64 must
 * decode to a key blob of the named type). Required wherever a host is reached: it pins the host.
 */
export const hostKey = () =>
    z.string(say(SSH_HOST_KEY_HINT)).superRefine((value, ctx) => {
        try {
            parseSshPublicKey("hostKey", value);
        } catch (e) {
            if (!(e instanceof ArgumentError)) throw e;
            // The shown value is the parser's: a pasted private key is never echoed.
            ctx.addIssue({ code: "custom", message: e.allowed, input: e.value });
        }
    });


/** An argv word for ExecStart: no NUL or newline (systemd cannot carry them); everything else is escaped later. */
export const argvWord = () => pattern(/^[^\x00\n\r]{1,4096}$/, "a non-empty string without NUL or newlines");
