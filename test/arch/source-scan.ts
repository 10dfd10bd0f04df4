import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** Every `.ts` file under `dir`, recursively, sorted. */
export function tsFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return tsFiles(p);
      return p.endsWith('.ts') ? [p] : [];
    });
}

/** One module reference in a source file. */
export interface ModuleReference {
  /** The specifier as written (`./x.js`, `node:fs`), or null when it is not a string literal. */
  specifier: string | null;
  /** How it is referenced. */
  kind: 'import' | 'side-effect import' | 'export from' | 'dynamic import' | 'import type' | 'require';
  line: number;
}

/** One use of the `process` or `console` global (or an import of `node:process`/`node:console`). */
export interface GlobalUse {
  /** `process.env`, `process.nextTick`, `console.log`, `process` (bare), `import 'node:process'`. */
  use: string;
  line: number;
}

/** What a source file refers to, read from its syntax tree (comments and strings never count). */
export interface FileScan {
  references: ModuleReference[];
  globals: GlobalUse[];
}

const GLOBALS = new Set(['process', 'console']);
const GLOBAL_MODULES = new Set(['process', 'node:process', 'console', 'node:console']);

/** True when `id` names a property, a declaration or a label rather than reading a variable. */
function isNotAReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return true;
  if (ts.isQualifiedName(p) && p.right === id) return true;
  if ((ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isPropertySignature(p)) && p.name === id) return true;
  if ((ts.isMethodDeclaration(p) || ts.isMethodSignature(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p)) && p.name === id) return true;
  if (ts.isEnumMember(p) && p.name === id) return true;
  if (ts.isBindingElement(p) && p.propertyName === id) return true;
  if ((ts.isImportSpecifier(p) || ts.isExportSpecifier(p)) && p.propertyName === id) return true;
  if (ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) return true;
  // A local declaration of that name: its uses are flagged where they read the (shadowed) global name.
  if ((ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isFunctionDeclaration(p) || ts.isClassDeclaration(p)) && p.name === id) return true;
  return false;
}

/**
 * Scans one file with the TypeScript parser: every module it refers to
 * (static imports, `import type`, side-effect imports, `export … from`,
 * `import('…')`, `typeof import('…')`, `require('…')`) and every read of the
 * `process`/`console` globals.
 */
export function scanFile(path: string): FileScan {
  const text = readFileSync(path, 'utf8');
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const references: ModuleReference[] = [];
  const globals: GlobalUse[] = [];
  const lineOf = (n: ts.Node): number => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const literal = (e: ts.Node | undefined): string | null => (e && ts.isStringLiteralLike(e) ? e.text : null);
  const addRef = (spec: string | null, kind: ModuleReference['kind'], n: ts.Node): void => {
    references.push({ specifier: spec, kind, line: lineOf(n) });
    if (spec !== null && GLOBAL_MODULES.has(spec)) globals.push({ use: `import '${spec}'`, line: lineOf(n) });
  };

  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) {
      const kind = n.importClause === undefined ? 'side-effect import' : n.importClause.isTypeOnly ? 'import type' : 'import';
      addRef(literal(n.moduleSpecifier), kind, n);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier) {
      addRef(literal(n.moduleSpecifier), 'export from', n);
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      addRef(literal(n.moduleReference.expression), 'require', n);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      addRef(literal(n.arguments[0]), 'dynamic import', n);
    } else if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'require' && n.arguments.length === 1) {
      // require(variable) (an eval'd worker loading better-sqlite3 by path) is not a module reference we can check.
      const spec = literal(n.arguments[0]);
      if (spec !== null) addRef(spec, 'require', n);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) {
      addRef(literal(n.argument.literal), 'import type', n);
    } else if (ts.isIdentifier(n) && GLOBALS.has(n.text) && !isNotAReference(n)) {
      const p = n.parent;
      const member =
        ts.isPropertyAccessExpression(p) && p.expression === n ? p.name.text : ts.isQualifiedName(p) && p.left === n ? p.right.text : null;
      const use = member === null ? n.text : `${n.text}.${member}`;
      globals.push({ use, line: lineOf(n) });
    } else if (ts.isPropertyAccessExpression(n) && GLOBALS.has(n.name.text) && ts.isIdentifier(n.expression) && n.expression.text === 'globalThis') {
      globals.push({ use: `globalThis.${n.name.text}`, line: lineOf(n) });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return { references, globals };
}
