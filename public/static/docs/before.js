// Runs before the Scalar bundle: the zod inside it would otherwise probe `new Function` (its JIT)
// and trip /docs's `script-src 'self'` (no 'unsafe-eval'); jitless zod parses the same, without eval.
globalThis.__zod_globalConfig = Object.assign(globalThis.__zod_globalConfig || {}, { jitless: true });
