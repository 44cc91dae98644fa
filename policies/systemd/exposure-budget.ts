// hearth-systemd-exposure-budget: each rendered service unit scores at or under its exposure budget (systemd-analyze security's scale).
import { REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { hearthPolicy, urnName } from "../lib/policy";
import { assessSecurity, Exposure } from "./exposure";
import { installedServices } from "./installed";

export interface ExposureBudgetConfig {
    /** The budget every unit gets unless `budgets` names it. */
    budget: number;
    /** Per-unit budgets by unit name (`web.service`) or by the command's or its parent's resource name. */
    budgets: Record<string, number>;
}

/** The settings that cost the most, for the message: "PrivateNetwork= 0.5". */
export function topContributors(e: Exposure, n = 4): string[] {
    const total = e.items.reduce((s, i) => s + (i.badness === null ? 0 : i.weight), 0);
    return e.items
        .filter((i) => i.badness)
        .map((i) => ({ field: i.field, share: Math.ceil((i.badness! * i.weight * 100) / i.range / total) / 10 }))
        .sort((a, b) => b.share - a.share)
        .slice(0, n)
        .map((c) => `${c.field} ${c.share.toFixed(1)}`);
}

export const systemdExposureBudget = hearthPolicy<ExposureBudgetConfig, typeof REMOTE_COMMAND_TYPE>({
    name: "hearth-systemd-exposure-budget",
    description: "Each service unit a hearth command installs has an exposure (as `systemd-analyze security` scores it, 0–10) within its budget (default 1.5).",
    enforcementLevel: "mandatory",
    types: [REMOTE_COMMAND_TYPE],
    config: {
        budget: { type: "number", minimum: 0, maximum: 10, default: 1.5, description: "Exposure budget for every unit." },
        budgets: {
            type: "object",
            additionalProperties: { type: "number", minimum: 0, maximum: 10 },
            default: {},
            description: "Budgets for particular units, by unit name or resource name.",
        },
    },
    remediationSteps: "Drop the loosenings the service does not need, or give it a larger budget in the policy config with the reason in a comment.",
    check({ name, urn, props, config, report }) {
        for (const u of installedServices(props)) {
            const budget = [u.unit.name, name, urnName(urn)].map((k) => config.budgets[k]).find((b) => typeof b === "number") ?? config.budget;
            const e = assessSecurity(u.info);
            if (e.exposure > budget) {
                report(`Unit ${u.unit.name} has exposure ${e.exposure.toFixed(1)}, over its budget of ${budget.toFixed(1)}; largest contributions: ${topContributors(e).join(", ")}.`);
            }
        }
    },
});
