// Prints the plain "N passed, N failed" line from vitest's JSON report and
// exits non-zero on any failure (or when the test command itself failed).
import { readFileSync } from 'node:fs';

const [file, statusText] = process.argv.slice(2);
const status = Number(statusText ?? '1');
let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
  if (report.numTotalTests === 0) failed += 1;
} catch (err) {
  console.log(`ci: no test report (${err.message}); the build or test command failed`);
  failed += 1;
}
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
