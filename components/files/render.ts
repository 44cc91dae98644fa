// HostFile rendering (pure: no Pulumi): the converge and delete scripts over the runtime. The content is the one stdin
// frame; the ownership mark is a record in hearth's state directory (the file itself stays byte for byte what was
// declared, whatever its format), keyed by a hash of the path (the runtime's hearth_file_* primitives read them):
//   files/<id>/path   the path          files/<id>/owner  the owning resource's mark
//   files/<id>/orig   "kept" when an adopted original is kept as <path>.hearth-orig (a hard link made before the
//                     new content replaced it), "restoring" while a delete puts it back
//   files/<id>/dirs   the parent directories hearth created (createParents), removed on delete when empty
import { OwnerMark } from "../core/owner";
import { contentHash, Script, shq } from "../shell";

export interface FileSpec {
    readonly path: string;
    /** Four octal digits, e.g. "0644". */
    readonly mode: string;
    readonly owner: string;
    readonly group: string;
    readonly createParents: boolean;
    readonly adopt: boolean;
    /** The content is a secret: it is read with hearth_install_secret (never parsed back by the plan). */
    readonly secret: boolean;
}

export interface RenderedHostFile {
    readonly script: string;
    readonly deleteScript: string;
    /** The read-only drift check lines beyond the file itself (its content, mode and owner are checked from the converge). */
    readonly check: readonly string[];
    /** Hash of both scripts (the content travels on stdin and changes the command by itself). */
    readonly hash: string;
}

/** The state key of a path's records: `files/<first 32 hex of sha256(path)>`. */
export function fileKey(path: string): string {
    return `files/${contentHash(path).slice(0, 32)}`;
}

/** The name an adopted original is kept under while hearth manages the path (the runtime's hearth_file_release). */
export const ORIG_SUFFIX = ".hearth-orig";

export function renderHostFile(spec: FileSpec, mark: OwnerMark): RenderedHostFile {
    const key = fileKey(spec.path);
    const dir = spec.path.slice(0, spec.path.lastIndexOf("/")) || "/";
    const c = new Script(`HostFile ${spec.path}`).owner(mark);
    c.raw("hearth_lock files", `path=${shq(spec.path)}`, `k=${shq(key)}`, `dir=${shq(dir)}`);
    // Everything about the new path is checked and it is written before a path this resource wrote before (its path
    // changed) is released: a new path that fails leaves the old file (and its record) as they were.
    for (const [what, db, name] of [["owner", "passwd", spec.owner], ["group", "group", spec.group]] as const) {
        if (name !== "root") c.raw(`getent ${db} ${shq(name)} >/dev/null || hearth_die 65 ${shq(`the ${what} '${name}' of ${spec.path} does not exist on this host (create it first, e.g. by installing its package)`)}`);
    }
    // The directory must be one only root can change (a link or a directory another user controls is refused, so
    // root never writes through a path someone else can redirect); a missing one is created only on request.
    c.raw(
        'if [ -e "$dir" ] || [ -L "$dir" ]; then hearth_dir "$dir"; fi',
        spec.createParents ? ":" : `[ -d "$dir" ] || hearth_die 65 ${shq(`the directory ${dir} of ${spec.path} does not exist: install the package that owns it, or set createParents: true`)}`,
    );
    c.raw(
        'found=$(hearth_applied "$k/owner")',
        // A mark without the path is a release killed after it forgot the path (the file is gone, or the adopted
        // original is back): the path is not hearth's any more, so it is claimed (or adopted) afresh.
        'if [ -z "$(hearth_applied "$k/path")" ]; then found=""; fi',
        'if [ -n "$found" ]; then',
        '  hearth_claim "$path" "$found"',
        '  if [ "$(hearth_applied "$k/orig")" = restoring ]; then hearth_file_keep "$k" "$path"; fi',
        'elif [ -e "$path" ] || [ -L "$path" ]; then',
        '  hearth_claim "$path" ""',
        '  if [ -d "$path" ] && [ ! -L "$path" ]; then hearth_die 65 "$path is a directory, not a file"; fi',
        '  hearth_file_keep "$k" "$path"',
        "fi",
        'hearth_record "$k/path" "$path"',
        'hearth_record "$k/owner" "$hearth_owner"',
        // The directories the old path's record made that the new path lies in are the new record's now.
        'hearth_file_inherit "$k" "$dir"',
    );
    if (spec.createParents) {
        // Recorded before they are made, so a run killed in between still removes them on delete.
        c.raw(
            'if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then',
            '  read -r -a made <<<"$(hearth_applied "$k/dirs")"',
            "  missing=()",
            '  p=$dir',
            '  while [ ! -e "$p" ] && [ ! -L "$p" ]; do missing=("$p" "${missing[@]}"); p=$(hearth_parent "$p"); done',
            '  for p in "${missing[@]}"; do',
            '    case " ${made[*]} " in *" $p "*) ;; *) made+=("$p") ;; esac',
            "  done",
            '  hearth_record "$k/dirs" "${made[*]}"',
            '  hearth_dir "$dir"',
            "fi",
        );
    }
    const mode = spec.mode.padStart(4, "0");
    c.raw(`${spec.secret ? "hearth_install_secret" : "hearth_install"} ${shq(spec.path)} ${mode} ${shq(spec.owner)} ${shq(spec.group)}`);
    c.raw('hearth_file_release_mine "$k"');

    const d = new Script(`HostFile ${spec.path} (delete)`).owner(mark);
    d.raw("hearth_lock files", 'hearth_file_release_mine ""');
    const script = c.render();
    const deleteScript = d.render();
    const check = [["hearth_check_hostfile", key, spec.path, mark.id].map(shq).join(" ")];
    return { script, deleteScript, check, hash: contentHash(script, deleteScript) };
}
