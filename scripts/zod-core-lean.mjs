// zod/v4/core/index.js without `locales`: the `core` namespace of scripts/zod-lean.mjs (see there).
export * from "../node_modules/zod/v4/core/core.js";
export * from "../node_modules/zod/v4/core/parse.js";
export * from "../node_modules/zod/v4/core/errors.js";
export * from "../node_modules/zod/v4/core/schemas.js";
export * from "../node_modules/zod/v4/core/memoizer.js";
export * from "../node_modules/zod/v4/core/checks.js";
export * from "../node_modules/zod/v4/core/versions.js";
export * as util from "../node_modules/zod/v4/core/util.js";
export { toZod } from "../node_modules/zod/v4/core/util.js";
export * as regexes from "../node_modules/zod/v4/core/regexes.js";
export * from "../node_modules/zod/v4/core/registries.js";
export * from "../node_modules/zod/v4/core/doc.js";
export * from "../node_modules/zod/v4/core/api.js";
