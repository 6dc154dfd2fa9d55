/**
 * Case selection with the Autobahn testsuite's own rule (caseset.py,
 * resolveCasePatternList), so that `--cases` means the same to wstest, to
 * scripts/autobahn-summary and to our conformance run: a pattern with "*" is
 * matched from the start of the id ("*" is any text, and the end is not
 * anchored, so "12.*.1" also selects 12.1.10); one without "*" is an exact id.
 */
export function casePatterns(patterns: string): (id: string) => boolean {
  const exact = new Set<string>();
  const prefixes: RegExp[] = [];
  for (const pattern of patterns.split(',').map((p) => p.trim()).filter(Boolean)) {
    if (!pattern.includes('*')) exact.add(pattern);
    else prefixes.push(new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}`));
  }
  return (id) => exact.has(id) || prefixes.some((p) => p.test(id));
}
