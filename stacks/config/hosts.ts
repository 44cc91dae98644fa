// Site config for hosts: Host's own schema (components/host-schema.ts) with key material named by secret config keys.
import { z } from "zod";
import { baselineConfigSchema, driftTimerScheduleSchema, hostFields, rules, sshEndpointFields } from "../../components";
import { list, record, secretKey } from "./fields";

export const DEFAULT_SSH_KEY = "sshPrivateKey";

/** A plain address and host key (the config has no Outputs), by the same rules as Host. */
const plain = { address: rules.hostAddress(), hostKey: rules.sshPublicKey() };

export const bastionSchema = record(
    {
        ...sshEndpointFields,
        ...plain,
        /** Secret config key holding the bastion's SSH private key. @default "sshPrivateKey" */
        sshKey: secretKey().optional(),
    },
    "a bastion (proxy)",
);

export const hostSchema = record(
    {
        ...hostFields,
        ...plain,
        /** Secret config key holding this host's SSH private key. @default "sshPrivateKey" */
        sshKey: secretKey().optional(),
        proxy: bastionSchema.optional(),
        /** Run the host's own drift checks on a timer (HostDriftTimer), over everything the site declares on it. @default - none */
        driftTimer: driftTimerScheduleSchema.optional(),
        /**
         * The host's baseline (HostBaseline): the deploy account and users, sysctls and names, security upgrades, and a
         * firewall that opens exactly the listeners the site declares on this host. Declared after every other entry on
         * the host (before its drift timer). @default - none
         */
        baseline: baselineConfigSchema.optional(),
    },
    "a host",
);

export type HostConfig = z.infer<typeof hostSchema>;
export const hostsSchema = list(hostSchema, "a list of hosts", 200).min(1, { error: () => "a list of at least one host" });
