import { describeGateResult, type GateResult } from './gates.js';

/** Escapes text for XML attributes and content. */
export function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * JUnit XML with one test case per gate (CI systems show failed gates as
 * failed tests). `suite` names the test suite, e.g. `flashback report diff`.
 */
export function renderJunit(gates: GateResult[], suite: string): string {
  const failures = gates.filter((g) => !g.passed).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="flashback" tests="${gates.length}" failures="${failures}">`,
    `  <testsuite name="${xmlEscape(suite)}" tests="${gates.length}" failures="${failures}" errors="0" skipped="0">`,
  ];
  for (const g of gates) {
    const name = xmlEscape(`${g.gate.text} on ${g.segment}`);
    const line = xmlEscape(describeGateResult(g));
    if (g.passed) {
      lines.push(`    <testcase classname="flashback.gates" name="${name}">`, `      <system-out>${line}</system-out>`, '    </testcase>');
    } else {
      lines.push(
        `    <testcase classname="flashback.gates" name="${name}">`,
        `      <failure message="${line}" type="gate">${line}</failure>`,
        '    </testcase>',
      );
    }
  }
  lines.push('  </testsuite>', '</testsuites>');
  return lines.join('\n') + '\n';
}
