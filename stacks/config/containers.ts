// Site config for nspawn containers: NspawnContainerArgs as the component's schema has them, with the host named by
// its entry in hearth:hosts and the SSH private key named by its secret config key. Every other key is the component's
// own field, with its limits and sentences, and the component's cross-field check runs on the entry.
import { z } from "zod";
import { checkNspawnContainer, nspawnContainerFields, nspawnSshSchema } from "../../components";
import { label, list, record, secretKey } from "./fields";

export const containerSchema = record(
    {
        name: label(),
        host: label("the name of a host in hearth:hosts"),
        ...nspawnContainerFields,
        /** Root's login: the public key authorized inside, and the secret config key holding the private half. */
        ssh: record({ authorizedKey: nspawnSshSchema.shape.authorizedKey, privateKey: secretKey() }, "the container's SSH login"),
    },
    "a container",
    // The machine defaults to the entry's name, as it defaults to the resource name.
).superRefine((c, ctx) => checkNspawnContainer({ ...c, machine: c.machine ?? c.name }, ctx));
export type ContainerConfig = z.infer<typeof containerSchema>;
export const containersSchema = list(containerSchema, "a list of containers", 500);
