// Owner marks for SystemdService specs: what a component named `name` computes under the mocks (project hearth, stack test).
import { OwnerMark, ownerId } from "../../components/core/owner";
import { SERVICE_TYPE } from "../../components/tokens";

export function markOf(name: string, extra: Partial<OwnerMark> = {}): OwnerMark {
    return { id: ownerId("hearth", "test", SERVICE_TYPE, name), aliases: [], adopt: false, ...extra };
}
