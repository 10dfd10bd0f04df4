// Prints the plain "N passed, N failed, N skipped" line from vitest's JSON
// report and exits non-zero on any failure (or when the test command failed).
//
// It counts tests, not files or describe blocks: vitest's numFailedTestSuites
// counts every describe block above a failing test. A test file that failed
// with no failing test in it (it did not load, or a hook threw) counts as one
// failure, so that it cannot pass unseen.
import { readFileSync } from 'node:fs';

const [file, statusText] = process.argv.slice(2);
const status = Number(statusText ?? '1');
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const result of report.testResults ?? []) {
    let failedHere = 0;
    for (const test of result.assertionResults ?? []) {
      if (test.status === 'passed') passed += 1;
      else if (test.status === 'failed') failedHere += 1;
      else skipped += 1; // skipped, pending, todo
    }
    if (result.status === 'failed' && failedHere === 0) {
      const why = (result.message || 'no test failed, yet the file did (a hook or the file itself threw)').split('\n')[0];
      console.log(`ci: ${result.name} failed: ${why}`);
      failedHere = 1;
    }
    failed += failedHere;
  }
  if (passed + failed === 0) {
    console.log('ci: no test ran');
    failed += 1;
  }
} catch (err) {
  console.log(`ci: no test report (${err.message}); the build or test command failed`);
  failed += 1;
}
if (status !== 0 && failed === 0) {
  console.log(`ci: the test command exited ${status} with no failed test counted`);
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
