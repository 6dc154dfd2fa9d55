/**
 * Options objects of the public API: nothing the user passes is ignored in
 * silence. An unknown key throws a TypeError that names it, and for the
 * names `ws` uses that we do not, says what to use instead.
 */

/** A TypeError with a stable code, thrown for an option we do not take. */
export class OptionError extends TypeError {
  readonly code = 'UNKNOWN_OPTION';

  constructor(message: string) {
    super(message);
    this.name = 'OptionError';
  }
}

/**
 * Throw an OptionError for the first own key of `options` that is not in
 * `known`. `instead` maps names other libraries use to a hint naming ours.
 */
export function checkOptions(
  where: string,
  options: object | undefined,
  known: ReadonlySet<string>,
  instead: Readonly<Record<string, string>> = {},
): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where}: options must be an object`);
  }
  for (const key of Object.keys(options)) {
    if (known.has(key)) continue;
    const hint = Object.hasOwn(instead, key) ? instead[key] : undefined;
    throw new OptionError(`${where}: unknown option "${key}"${hint ? `; ${hint}` : ''}`);
  }
}
