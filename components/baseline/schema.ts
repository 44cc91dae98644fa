// HostBaseline arguments: the four baseline components' own schemas, each without its host (the baseline's host is
// theirs), so one declaration per host covers its firewall, accounts, upgrades and tuning.
import { checkHostAccounts, hostAccountsShape } from "../accounts/schema";
import { ONCE_VALID, record, z } from "../core/schema";
import { firewallShape } from "../firewall/schema";
import { checkTuning, tuningShape } from "../tuning/schema";
import { checkHostUpgrades, hostUpgradesShape } from "../upgrades/schema";
import { hostArg } from "../validate";

function withoutHost<S extends { host: unknown }>(shape: S): Omit<S, "host"> {
    const { host: _host, ...rest } = shape;
    return rest;
}

export const baselineFirewallSchema = record(withoutHost(firewallShape), "a firewall (HostFirewall's arguments without host)");
export const baselineAccountsSchema = record(withoutHost(hostAccountsShape), "accounts (HostAccounts' arguments without host)").superRefine(checkHostAccounts, ONCE_VALID);
export const baselineUpgradesSchema = record(withoutHost(hostUpgradesShape), "upgrades (HostUpgrades' arguments without host)").superRefine(checkHostUpgrades, ONCE_VALID);
export const baselineTuningSchema = record(withoutHost(tuningShape), "tuning (HostTuning's arguments without host)").superRefine(checkTuning, ONCE_VALID);

/** Everything but the host: what a site's `hearth:hosts[].baseline` takes. */
export const baselineShape = {
    accounts: baselineAccountsSchema
        .optional()
        .describe("The deploy account hearth logs in with, human users and their keys (HostAccounts, child `<name>-accounts`). @default - accounts left as they are"),
    tuning: baselineTuningSchema.optional().describe("Sysctls, time servers, hostname, /etc/hosts (HostTuning, child `<name>-tuning`). @default - left as they are"),
    upgrades: baselineUpgradesSchema
        .optional()
        .describe("Unattended security upgrades and a reboot window (HostUpgrades, child `<name>-upgrades`). @default - upgrades left as they are"),
    firewall: baselineFirewallSchema
        .optional()
        .describe("The host's nftables ruleset, derived from every listener declared on the host before the baseline (HostFirewall, child `<name>-firewall`). @default - no firewall"),
};

export const baselineConfigSchema = record(baselineShape, "a host baseline { accounts?, tuning?, upgrades?, firewall? }");

export const HostBaselineArgsSchema = record(
    {
        host: hostArg().describe("The host: declare the baseline after the host's other components (its firewall opens exactly the listeners declared before it)."),
        ...baselineShape,
    },
    "HostBaselineArgs",
);

export type HostBaselineArgs = z.input<typeof HostBaselineArgsSchema>;
export type BaselineConfig = z.input<typeof baselineConfigSchema>;
