// What a DebianPackages resource records as its inputs (state, the plan, policy props). Types only; pure.

/** hearth:apt:Packages records its host's name and its resolved arguments. */
export interface PackagesProps {
    readonly host: string;
    readonly packages: readonly { readonly name: string; readonly version?: string; readonly hold: boolean }[];
    readonly keepUnits: readonly string[];
    readonly removeOnDelete?: { readonly reason: string };
}
