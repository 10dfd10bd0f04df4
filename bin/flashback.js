#!/usr/bin/env node
// Loads the compiled CLI (npm run build writes dist/).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('flashback: not built yet; run `npm run build` first\n');
    process.exit(2);
  }
  throw err;
});
