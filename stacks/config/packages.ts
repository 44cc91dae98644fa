// Site config for Debian packages: DebianPackages' own schema, with the host named (a host or container of the site).
// `keepUnits` lists only what no service declares: every unit a service of the same host declares (a full unit or a
// drop-in's packaged unit) is kept by the site program (stacks/build/packages.ts), so a unit is never listed twice.
import { z } from "zod";
import { checkDebianPackages, debianPackagesShape, rules } from "../../components";
import { dependsOnField } from "./services";

const { label, list, record } = rules;

const { host: _host, ...fields } = debianPackagesShape;

export const packagesEntrySchema = record(
    {
        name: label().describe("Resource name; services name it in `after`/`requires`/`wants` as `{ packages: <name> }`."),
        host: label("the name of a host in hearth:hosts").describe("Name of the host in `hearth:hosts` (or the container in `hearth:containers`) to install on."),
        ...fields,
        dependsOn: dependsOnField(),
        keepUnits: fields.keepUnits.describe(
            "Packaged units to leave unmasked that no service of this host declares (e.g. `postgresql@.service` for a PostgresDb). A unit a service declares (a full unit of the same name, or a drop-in) is kept automatically and may not be listed here. @default []",
        ),
    },
    "a packages entry",
).superRefine(checkDebianPackages, rules.ONCE_VALID);
export type PackagesConfig = z.infer<typeof packagesEntrySchema>;
export const packagesSchema = list(packagesEntrySchema, "a list of packages entries", 200);
