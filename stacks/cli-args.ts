// The command lines of the site tools (plan, check): one reader of `--flag [value]` words and the stack name rule.

/**
 * Reads `argv` word by word: `on(flag, value)` handles a flag and says whether it knew it (`value()` takes the next
 * word, or throws naming the flag). `--help`/`-h` prints `usage` and exits; an unknown flag throws with the usage.
 */
export function readFlags(argv: readonly string[], usage: string, on: (flag: string, value: () => string) => boolean): void {
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined) throw new Error(`${flag} needs a value\n${usage}`);
            return v;
        };
        if (flag === "--help" || flag === "-h") {
            console.log(usage);
            process.exit(0);
        }
        if (!on(flag, value)) throw new Error(`unknown argument ${JSON.stringify(flag)}\n${usage}`);
    }
}

/** Throws unless `stack` is a stack name (it names a file: `Pulumi.<stack>.yaml`). */
export function checkStackName(stack: string): void {
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(stack)) throw new Error(`--stack must be a stack name (letters, digits, _ . -), got ${JSON.stringify(stack)}`);
}
