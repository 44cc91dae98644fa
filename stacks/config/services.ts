// Site config for services: SystemdService's own schema, with the host named (a host or container of the site), a
// resource name, and credentials given as the names of secret config keys. Every other key, its limits and its
// cross-field checks are the component's, so a new argument is a config key the day it is added.
import { z } from "zod";
import { checkSystemdDropIn, checkSystemdService, isSystemdDropIn, rules, systemdCredentials, systemdDropInShape, systemdEither, systemdResourceUnitName, systemdServiceShape } from "../../components";
import { secretKey } from "./fields";

const { label, list, problem, record } = rules;

const placed = {
    name: label().describe("Resource and (unless `unitName` is given) unit name."),
    host: label("the name of a host in hearth:hosts").describe("Name of the host in `hearth:hosts` (or the container in `hearth:containers`) it runs on."),
};

/** The unit name a service takes from its `name` when `unitName` is not given, checked as the component checks it. */
function checkUnitNameFromName(v: { name: string; unitName?: string }, ctx: z.RefinementCtx): void {
    if (v.unitName !== undefined) return;
    const r = systemdResourceUnitName.safeParse(v.name);
    if (!r.success) problem(ctx, ["unitName"], v.name, r.error.issues[0].message);
}

const fullService = record(
    {
        ...placed,
        ...systemdServiceShape,
        host: placed.host,
        credentials: systemdCredentials(secretKey()).optional().describe("Credential name to the name of the secret config key holding its value. @default {}"),
    },
    "a service",
).superRefine((v, ctx) => {
    checkSystemdService(v, ctx);
    checkUnitNameFromName(v, ctx);
});

const dropIn = record({ ...placed, ...systemdDropInShape, host: placed.host }, "a service").superRefine(checkSystemdDropIn);

export const serviceSchema = systemdEither(isSystemdDropIn, dropIn, fullService);

export type ServiceConfig = z.output<typeof serviceSchema>;
export const servicesSchema = list(serviceSchema, "a list of services", 2000);
