// ESLint flat config: typescript-eslint's type-aware recommended rules on the sources and tests.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "out/**", "node_modules/**", ".vscode-test/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always"],
      curly: "error",
    },
  },
  {
    files: ["**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: null, program: null },
      globals: {
        process: "readonly", console: "readonly", setTimeout: "readonly", clearTimeout: "readonly",
        Buffer: "readonly", URL: "readonly", document: "readonly", window: "readonly",
        fetch: "readonly", MutationObserver: "readonly",
      },
    },
  },
);
