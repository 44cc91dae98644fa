// DebianPackages arguments: one zod schema that is their type, their validation and their README table.
import { bool, list, ONCE_VALID, pattern, problem, reasonInWords, record, say, z } from "../core/schema";
import { hostArg } from "../validate";

/** A Debian package name (Policy 5.6.1): lowercase letters, digits, `+`, `-`, `.`; at least two characters. */
export const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]{1,99}$/;
export const PACKAGE_NAME_ALLOWED = "a Debian package name (lowercase letters, digits, '+', '-', '.', starting with a letter or digit, 2 to 100 characters, no architecture qualifier)";

/**
 * A Debian version (Policy 5.6.12) `[epoch:]upstream[-revision]`: the epoch digits, the upstream version starting with
 * a digit, letters, digits and `. + ~ -` after it; never a space, a colon outside the epoch or a trailing `-`.
 */
export const PACKAGE_VERSION = /^(?:[0-9]{1,9}:)?[0-9][A-Za-z0-9.+~-]{0,126}$/;
export const PACKAGE_VERSION_ALLOWED =
    "a Debian version '[epoch:]upstream[-revision]' (an optional numeric epoch and ':', then a digit, then letters, digits and . + ~ -, not ending in '-', at most 128 characters)";

/** A unit a package may ship that could start a daemon: what is masked unless kept. */
export const MASKABLE_UNIT = /^[A-Za-z0-9_.:-]+(@[A-Za-z0-9_.:-]*)?\.(service|socket|timer|path)$/;
export const UNIT_ALLOWED =
    "a systemd unit name ending in .service, .socket, .timer or .path (letters, digits, '_', '.', ':', '-', one optional '@' for a template; not starting with '-' or '.'; at most 255 characters)";

const packageName = () => pattern(PACKAGE_NAME, PACKAGE_NAME_ALLOWED);
const packageVersion = () =>
    z.string(say(PACKAGE_VERSION_ALLOWED)).refine((v) => PACKAGE_VERSION.test(v) && !v.endsWith("-"), say(PACKAGE_VERSION_ALLOWED));
const unitName = () =>
    z.string(say(UNIT_ALLOWED)).refine((v) => MASKABLE_UNIT.test(v) && !/^[-.]/.test(v) && v.length <= 255, say(UNIT_ALLOWED));

export const packageSpecSchema = record(
    {
        name: packageName().describe("The package's name."),
        version: packageVersion()
            .optional()
            .describe("The exact version to install (`name=version`; a newer installed version is downgraded to it). @default - any version: installed if missing, never upgraded"),
        hold: bool()
            .optional()
            .describe(
                "`apt-mark hold` the package so no upgrade moves it (with or without `version`: without one, the version installed is held). Holds hearth set are released when no longer asked for. @default false",
            ),
    },
    "a package",
);

const PACKAGE_ALLOWED = `${PACKAGE_NAME_ALLOWED}, or a mapping { name, version?, hold? }`;

/** A package as a name alone or as a mapping. */
export const packageEntry = () =>
    z.union([packageName(), packageSpecSchema], {
        error: (iss) => {
            if (iss.code !== "invalid_union") return undefined;
            // A string is judged by the name rule, a mapping by its own fields; anything else gets the whole sentence.
            const input = (iss as { input?: unknown }).input;
            if (typeof input === "string") return PACKAGE_NAME_ALLOWED;
            return PACKAGE_ALLOWED;
        },
    });

export const debianPackagesShape = {
    host: hostArg().describe("The Debian host to install on (apt, dpkg and systemd; hearth reaches it with `sudo -n`)."),
    packages: list(packageEntry(), "an array of package names or { name, version?, hold? } mappings", 200, 1).describe(
        "The packages to install: a name, or `{ name, version?, hold? }`. Each name at most once; their dependencies are apt's business and are not listed.",
    ),
    keepUnits: list(unitName(), "an array of systemd unit names", 200)
        .optional()
        .describe(
            "Units shipped by these packages that a SystemdService (a unit of the same name, or a drop-in) declares: these are not masked. Every other `.service`, `.socket`, `.timer` and `.path` unit the packages ship is masked before the package is unpacked, so no packaged daemon starts or stays enabled behind hearth's back. @default []",
        ),
    removeOnDelete: record({ reason: reasonInWords().describe("Why the packages may go when the resource is deleted.") }, "an opt-in with a reason")
        .optional()
        .describe("`apt-get remove` the declared packages when the resource is deleted (configuration files stay, as `remove` leaves them). @default - kept: on delete the packages stay installed, holds hearth set are released, masks hearth set stay"),
};

/** Rules between entries: each package and each kept unit at most once. */
export function checkDebianPackages(v: { readonly packages?: readonly (string | { readonly name: string })[]; readonly keepUnits?: readonly string[] }, ctx: z.RefinementCtx): void {
    const seen = new Set<string>();
    (v.packages ?? []).forEach((p, i) => {
        const name = typeof p === "string" ? p : p.name;
        if (seen.has(name)) problem(ctx, ["packages", i], name, `a package not listed before in 'packages' ('${name}' is listed twice)`);
        seen.add(name);
    });
    const units = new Set<string>();
    (v.keepUnits ?? []).forEach((u, i) => {
        if (units.has(u)) problem(ctx, ["keepUnits", i], u, `a unit not listed before in 'keepUnits' ('${u}' is listed twice)`);
        units.add(u);
    });
}

export const DebianPackagesArgsSchema = record(debianPackagesShape, "DebianPackagesArgs").superRefine(checkDebianPackages, ONCE_VALID);

export type DebianPackagesArgs = z.input<typeof DebianPackagesArgsSchema>;
export type DebianPackageSpec = z.input<typeof packageSpecSchema>;
