// The remote commands of a stateful component: a converge that only ever updates in place, and a separate delete that no replacement can run.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { Host } from "../host";
import { Script, shq } from "../shell";

export interface StatefulCommandsArgs {
    readonly host: Host;
    /** Converges the host; runs on create and on every change of the script or stdin. */
    readonly script: string;
    readonly stdin?: pulumi.Input<string>;
    /** Runs only when the component is really deleted: keeps data by default, destroys it only on opt-in. */
    readonly deleteScript: string;
    /** One line for the log of the lifecycle command, e.g. "tank/app: delete keeps the dataset". */
    readonly policy: string;
    /** Resources whose delete must run after this one's (e.g. the dataset a database lives on). */
    readonly deleteBefore?: readonly pulumi.Resource[];
}

export interface StatefulCommands {
    readonly converge: command.remote.Command;
    readonly lifecycle: command.remote.Command;
}

/**
 * Kept for the components that adopted it (nspawn, wireguard); ZfsDataset and PostgresDb now use the core
 * `remoteScript`, which took the same design (converge without triggers, delete on a lifecycle command).
 *
 * Why two commands and no `triggers`. @pulumi/command marks `triggers` replaceOnChanges, and a replacement runs the
 * new create and then the *old* delete: for a dataset or a database that delete would unmark (or drop) what the new
 * create just converged. So the converge command has no triggers (any change of its script or stdin is an in-place
 * update, and an unchanged component still runs nothing) and no delete at all. The delete lives on a second command
 * whose create is a log line and which ignores connection changes (the provider replaces on those), so it is never
 * replaced: its delete runs exactly once, when the component itself is deleted, with the policy of the last `up`.
 */
export function statefulCommands(name: string, args: StatefulCommandsArgs, opts: pulumi.CustomResourceOptions): StatefulCommands {
    const create = args.host.wrap(args.script);
    const converge = new command.remote.Command(
        `${name}`,
        {
            connection: args.host.connection,
            create,
            update: create,
            ...(args.stdin !== undefined ? { stdin: args.stdin } : {}),
            addPreviousOutputInEnv: false,
        },
        opts,
    );
    const note = args.host.wrap(new Script(`lifecycle of ${name}`).raw(`echo ${shq(`hearth: ${args.policy}`)}`).render());
    const lifecycle = new command.remote.Command(
        `${name}-lifecycle`,
        {
            connection: args.host.connection,
            create: note,
            update: note,
            delete: args.host.wrap(args.deleteScript),
            addPreviousOutputInEnv: false,
        },
        { ...opts, dependsOn: [converge, ...(args.deleteBefore ?? [])], ignoreChanges: ["connection"] },
    );
    return { converge, lifecycle };
}
