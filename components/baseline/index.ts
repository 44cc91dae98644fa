// HostBaseline (hearth:host:Baseline): one declaration per host for what every host needs besides its services: the
// deploy account and users (HostAccounts), kernel settings, time and names (HostTuning), security upgrades and a reboot
// window (HostUpgrades), and a firewall derived from what the site declares on the host (HostFirewall, last).
import * as pulumi from "@pulumi/pulumi";
import { HostAccounts, resolveAccountsArgs } from "../accounts";
import { argName, ArgumentError } from "../core/errors";
import { isRehearsing, rehearsalPoint, rehearse, rehearseChildren } from "../core/owner";
import { parseArgs } from "../core/schema";
import { HostFirewall, resolveFirewall } from "../firewall";
import { childAliases } from "../ownership";
import { BASELINE_TYPE } from "../tokens";
import { HostTuning, resolveTuningArgs } from "../tuning";
import { HostUpgrades } from "../upgrades";
import { check } from "../validate";
import { HostBaselineArgs, HostBaselineArgsSchema } from "./schema";

export { HostBaselineArgs, HostBaselineArgsSchema, BaselineConfig, baselineConfigSchema, baselineShape } from "./schema";

type Part = "accounts" | "tuning" | "upgrades" | "firewall";

/** The children in the order they are declared: the firewall last, so it sees every listener declared on the host. */
const PARTS: readonly Part[] = ["accounts", "tuning", "upgrades", "firewall"];

export class HostBaseline extends pulumi.ComponentResource {
    readonly accounts?: HostAccounts;
    readonly tuning?: HostTuning;
    readonly upgrades?: HostUpgrades;
    readonly firewall?: HostFirewall;

    constructor(name: string, args: HostBaselineArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const a = check(() => parseArgs(HostBaselineArgsSchema, args));
        const host = a.host;
        // The checks each child makes beyond its schema (the firewall's SSH port against the host's, ...), before any
        // child registers, named under the baseline's argument. Resolved as a rehearsal: a child's error stays an
        // ArgumentError (check() would turn it into the child's own message), and its claims go to a scratch registry.
        const under = (part: Part, fn: () => unknown) => {
            if (args[part] === undefined) return;
            try {
                fn();
            } catch (e) {
                if (!(e instanceof ArgumentError)) throw e;
                const path = [part, ...e.path];
                throw new ArgumentError(argName(path), e.value, e.allowed, path);
            }
        };
        const resolveAll = () => {
            under("accounts", () => resolveAccountsArgs({ ...args.accounts!, host }));
            under("tuning", () => resolveTuningArgs({ ...args.tuning!, host }));
            under("firewall", () => resolveFirewall({ ...args.firewall!, host }));
        };
        // (A site's rehearsal is one already; a rehearsal does not nest.)
        check(() => (isRehearsing() ? resolveAll() : rehearse(resolveAll)));
        // Each child is built from the arguments as given (its own schema checks them again, with the same rules), its
        // errors named under the baseline's argument (`firewall.adminNetworks[0]`).
        const make = (part: Part, childOpts?: pulumi.ComponentResourceOptions): pulumi.ComponentResource | undefined => {
            const given = args[part];
            if (given === undefined) return undefined;
            const childArgs = { ...given, host } as never;
            const n = `${name}-${part}`;
            switch (part) {
                case "accounts":
                    return new HostAccounts(n, childArgs, childOpts);
                case "tuning":
                    return new HostTuning(n, childArgs, childOpts);
                case "upgrades":
                    return new HostUpgrades(n, childArgs, childOpts);
                case "firewall":
                    return new HostFirewall(n, childArgs, childOpts);
            }
        };
        // Every child's checks and claims run before anything registers: one rehearsal each (a rehearsed child stops at
        // its own rehearsal point, so one callback would rehearse only the first).
        for (const part of PARTS) rehearseChildren(`${BASELINE_TYPE} '${name}'`, () => void make(part), [part]);
        rehearsalPoint();
        super(BASELINE_TYPE, name, { host: host.name, parts: PARTS.filter((p) => a[p] !== undefined) }, opts);
        const made: Partial<Record<Part, pulumi.ComponentResource>> = {};
        for (const part of PARTS) {
            const aliases = childAliases(opts, `-${part}`);
            const child = make(part, { parent: this, ...(aliases.length ? { aliases } : {}) });
            if (child) made[part] = child;
        }
        this.accounts = made.accounts as HostAccounts | undefined;
        this.tuning = made.tuning as HostTuning | undefined;
        this.upgrades = made.upgrades as HostUpgrades | undefined;
        this.firewall = made.firewall as HostFirewall | undefined;
        this.registerOutputs({});
    }
}
