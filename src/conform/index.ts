/**
 * `strictws/conform`: the conformance suite as a library. `runConformance`
 * runs the cases against a WebSocket server and judges each with Autobahn's
 * verdict classes; the rest writes reports and gates on expected verdicts.
 * It shares no code with the strictws server (src/protocol, src/server).
 */
export { type ConformOptions, type ConformRun, type FamilySummary, DEFAULT_CASE_TIMEOUT, DEFAULT_CONCURRENCY, fmtMs, runConformance } from './run.js';
export { type Behavior, type Case, type CaseContext, type CaseResult, type CloseBehavior, type Family, type Verdict, BEHAVIORS, Mismatch, NotApplicable, Outcome, Unimplemented } from './case.js';
export { type Difference, type ExpectedFile, type ExpectedVerdict, compare, describeDifference, readExpected, writeExpected } from './expected.js';
export { type Gate, renderHtml, renderJunit, reportFile, summaryTable, writeAutobahnJson } from './report.js';
export { FAMILIES, H2_FAMILIES } from './families/index.js';
export { TargetError } from './transport.js';
export { casePatterns } from './patterns.js';
