// Site config for configuration files: HostFile's own schema, with the host named and a secret content named by its
// secret config key (never inline).
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { checkHostFile, fileContent, hostFileShape, rules } from "../../components";
import { secretKey } from "./fields";
import { dependsOnField } from "./services";

const { label, problem, record } = rules;

const { host: _host, content: _content, secret: _secret, ...fields } = hostFileShape;

/** Exactly one of `content` and `secretContent`. */
function checkContent(v: { content?: string; secretContent?: string }, ctx: z.RefinementCtx): void {
    if ((v.content === undefined) === (v.secretContent === undefined)) {
        problem(ctx, ["content"], v.content, "exactly one of content (the text) and secretContent (the name of a secret config key holding it)");
    }
}

export const fileEntrySchema = record(
    {
        name: label().describe("Resource name; services name it in `after`/`requires`/`wants` as `{ file: <name> }`."),
        host: label("the name of a host in hearth:hosts").describe("Name of the host in `hearth:hosts` (or the container in `hearth:containers`) the file is written on."),
        ...fields,
        dependsOn: dependsOnField(),
        content: fileContent().optional().describe(hostFileShape.content.description ?? ""),
        secretContent: secretKey()
            .optional()
            .describe("The name of a secret config key holding the content (instead of `content`): the file is then secret (only its hash is recorded; mode 0600 by default)."),
    },
    "a file",
).superRefine((v, ctx) => {
    checkContent(v, ctx);
    // HostFile's own rules between fields (a secret's mode): a secret content is an Output by the time it is built.
    const { content, secretContent, ...rest } = v;
    if (secretContent !== undefined) checkHostFile({ ...rest, secret: true, content: pulumi.secret("") }, ctx);
    else checkHostFile({ ...rest, content }, ctx);
}, rules.ONCE_VALID);
export type FileConfig = z.infer<typeof fileEntrySchema>;
export const filesSchema = rules.list(fileEntrySchema, "a list of files", 2000);
