import type { Command } from 'commander';

/** The shells `grpcforge completion` writes scripts for. */
export type Shell = 'bash' | 'zsh' | 'fish';

/** One flag as the scripts offer it. */
interface FlagSpec {
  /** `--port`, and `-p` when there is a short form. */
  readonly names: readonly string[];
  readonly description: string;
  /** Takes a value (`--port <port>`): the word after it is that value, completed as a file name or a choice. */
  readonly takesValue: boolean;
  /** The accepted values, when the flag lists them (`--format text|json|github-actions`). */
  readonly choices: readonly string[];
}

/** One command (or the program itself, path `[]`) as the scripts offer it. */
interface CommandSpec {
  /** `['keys', 'create']`; `[]` for the program. */
  readonly path: readonly string[];
  readonly description: string;
  readonly subcommands: readonly { readonly name: string; readonly description: string }[];
  readonly flags: readonly FlagSpec[];
}

const HELP_FLAG: FlagSpec = { names: ['--help', '-h'], description: 'display help for command', takesValue: false, choices: [] };

/** Every command of the program, depth first, from commander's own registrations (so the scripts never go stale). */
function commandSpecs(program: Command): CommandSpec[] {
  const globals = program.options.filter((option) => !option.hidden && option.long !== '--version').map(flagSpec);
  const specs: CommandSpec[] = [];
  const visit = (command: Command, path: readonly string[]) => {
    const own = command.options.filter((option) => !option.hidden).map(flagSpec);
    const subcommands = command.commands;
    specs.push({
      path,
      description: command.description(),
      subcommands: subcommands.map((sub) => ({ name: sub.name(), description: sub.description() })),
      flags: [...own, ...(path.length > 0 ? globals : []), HELP_FLAG],
    });
    for (const sub of subcommands) visit(sub, [...path, sub.name()]);
  };
  visit(program, []);
  return specs;
}

function flagSpec(option: Command['options'][number]): FlagSpec {
  return {
    names: [option.long, option.short].filter((name): name is string => name !== undefined),
    description: option.description,
    takesValue: option.required || option.optional,
    choices: option.argChoices ?? [],
  };
}

/**
 * The completion script for `shell`: commands, subcommands and flags of `program`; file names after a flag that
 * takes a value (its choices when it has some).
 */
export function completionScript(shell: Shell, program: Command): string {
  const specs = commandSpecs(program);
  switch (shell) {
    case 'bash':
      return bashScript(specs);
    case 'zsh':
      return zshScript(specs);
    case 'fish':
      return fishScript(specs);
  }
}

/** A word for a single-quoted shell string (bash and zsh). */
const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
/** A description on one line, for menus. */
const oneLine = (description: string) => description.replace(/\s+/g, ' ').trim();

/** `case` arms shared by bash and zsh: which paths are commands, their words, and the flags that take a value. */
function caseArms(specs: readonly CommandSpec[], arm: (spec: CommandSpec) => string): string {
  return specs.map((spec) => `    ${quote(spec.path.join(' '))}) ${arm(spec)} ;;`).join('\n');
}

function valueFlags(specs: readonly CommandSpec[]): string {
  const arms = new Map<string, string>();
  for (const spec of specs)
    for (const flag of spec.flags)
      if (flag.takesValue)
        for (const name of flag.names) arms.set(`${spec.path.join(' ')}|${name}`, flag.choices.join(' ') || '__files__');
  return [...arms].map(([key, value]) => `    ${quote(key)}) echo ${quote(value)} ;;`).join('\n');
}

function bashScript(specs: readonly CommandSpec[]): string {
  const words = (spec: CommandSpec) =>
    `echo ${quote([...spec.subcommands.map((sub) => sub.name), ...spec.flags.flatMap((flag) => flag.names)].join(' '))}`;
  return `# grpcforge completion for bash: source <(grpcforge completion bash)
_grpcforge_words() {
  case "$1" in
${caseArms(specs, words)}
    *) return 1 ;;
  esac
}
_grpcforge_value() {
  case "$1|$2" in
${valueFlags(specs)}
    *) return 1 ;;
  esac
}
_grpcforge_completion() {
  local cur prev cmdpath word next values i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmdpath=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == -* ]] && continue
    next="\${cmdpath:+$cmdpath }$word"
    _grpcforge_words "$next" >/dev/null && cmdpath="$next"
  done
  if [[ "$prev" == -* ]] && values="$(_grpcforge_value "$cmdpath" "$prev")"; then
    if [[ "$values" == __files__ ]]; then
      COMPREPLY=()
    else
      COMPREPLY=($(compgen -W "$values" -- "$cur"))
    fi
    return 0
  fi
  COMPREPLY=($(compgen -W "$(_grpcforge_words "$cmdpath")" -- "$cur"))
}
complete -o default -F _grpcforge_completion grpcforge
`;
}

function zshScript(specs: readonly CommandSpec[]): string {
  // _describe entries are `word:description`; a colon inside the word or the description is escaped.
  const entry = (word: string, description: string) => quote(`${word.replace(/:/g, '\\:')}:${oneLine(description)}`);
  const words = (spec: CommandSpec) =>
    `items=(${[
      ...spec.subcommands.map((sub) => entry(sub.name, sub.description)),
      ...spec.flags.flatMap((flag) => flag.names.map((name) => entry(name, flag.description))),
    ].join(' ')})`;
  return `#compdef grpcforge
# grpcforge completion for zsh: source <(grpcforge completion zsh), or save it as _grpcforge in $fpath
_grpcforge_items() {
  case "$1" in
${caseArms(specs, words)}
    *) return 1 ;;
  esac
}
_grpcforge_value() {
  case "$1|$2" in
${valueFlags(specs)}
    *) return 1 ;;
  esac
}
_grpcforge() {
  local cmdpath="" word next values i
  local -a items
  for ((i = 2; i < CURRENT; i++)); do
    word="\${words[i]}"
    [[ "$word" == -* ]] && continue
    next="\${cmdpath:+$cmdpath }$word"
    _grpcforge_items "$next" && cmdpath="$next"
  done
  if [[ "\${words[CURRENT-1]}" == -* ]] && values="$(_grpcforge_value "$cmdpath" "\${words[CURRENT-1]}")"; then
    if [[ "$values" == __files__ ]]; then _files; else compadd -- \${=values}; fi
    return
  fi
  _grpcforge_items "$cmdpath" && _describe -t commands grpcforge items
}
if (( $+functions[compdef] )); then
  compdef _grpcforge grpcforge
fi
`;
}

function fishScript(specs: readonly CommandSpec[]): string {
  const fishQuote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const names = specs.flatMap((spec) => spec.subcommands.map((sub) => sub.name));
  const topLevel = specs[0]?.subcommands.map((sub) => sub.name) ?? [];
  const lines = [
    '# grpcforge completion for fish: grpcforge completion fish > ~/.config/fish/completions/grpcforge.fish',
    'complete -c grpcforge -f',
  ];
  for (const spec of specs) {
    // A path is current when its words were seen and no subcommand of its last word was.
    const seen = spec.path.map((word) => `__fish_seen_subcommand_from ${word}`);
    const children = spec.subcommands.map((sub) => sub.name);
    const condition =
      spec.path.length === 0
        ? `not __fish_seen_subcommand_from ${[...new Set(names)].join(' ')}`
        : [
            ...seen,
            // `init` is also `certs init`: a top-level command's flags only when no other top-level command was seen.
            ...(spec.path.length === 1
              ? [`not __fish_seen_subcommand_from ${topLevel.filter((name) => name !== spec.path[0]).join(' ')}`]
              : []),
            ...(children.length ? [`not __fish_seen_subcommand_from ${children.join(' ')}`] : []),
          ].join('; and ');
    for (const sub of spec.subcommands) {
      lines.push(`complete -c grpcforge -n ${fishQuote(condition)} -a ${sub.name} -d ${fishQuote(oneLine(sub.description))}`);
    }
    for (const flag of spec.flags) {
      const long = flag.names.find((name) => name.startsWith('--'))?.slice(2);
      const single = flag.names.find((name) => /^-[^-]$/.test(name))?.slice(1);
      const value = flag.takesValue ? (flag.choices.length ? ` -x -a ${fishQuote(flag.choices.join(' '))}` : ' -r -F') : '';
      lines.push(
        `complete -c grpcforge -n ${fishQuote(condition)}${long ? ` -l ${long}` : ''}${single ? ` -s ${single}` : ''}${value} -d ${fishQuote(oneLine(flag.description))}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
